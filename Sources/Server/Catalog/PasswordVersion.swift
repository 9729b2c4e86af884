import Foundation
import Shared

/// One version of an account's password in its history: when, who, how and from where; the
/// password itself only when it was asked for by someone who may retrieve the current one.
struct PasswordVersion: Sendable {
    var id: String
    var current: Bool
    var createdAt: Date
    var by: String
    /// `created`, `local`, `remote reset`, `rotation`, `expiry`, `check-in`, `share removal`, `reconcile`.
    var how: String
    /// The address the change was asked from; `server` for what the server did on its own; nil
    /// when not known or not shown to the caller.
    var ip: String?
    /// The reset that set it, whose audit trail tells the rest.
    var taskId: String?
    var password: Secret? = nil

    /// What the stores read of the task that set a version and of the audit record that queued it.
    struct Origin: Sendable {
        var taskId: String
        var rotationRunId: String?
        var requestedBy: String
        var requestedById: String?
        var reconcileAttempts: Int
        /// The audit record naming the task: its operation, address and message.
        var queuedBy: (operation: String, ip: String, message: String)?
    }

    static func classify(_ origin: Origin?, createdAt: Date, accountCreatedAt: Date, ip: String?) -> (how: String, ip: String?) {
        guard let o = origin else {
            if abs(createdAt.timeIntervalSince(accountCreatedAt)) < 0.001 { return ("created", ip) }
            // Set in the vault: from 0.16 on with its address; earlier versions kept none.
            return (ip == nil ? "unknown" : "local", ip)
        }
        let address = o.queuedBy?.ip ?? "server"
        if o.rotationRunId != nil { return ("rotation", address) }
        if o.requestedById == nil && o.requestedBy == "expiry" { return ("expiry", address) }
        switch o.queuedBy?.operation {
        case "checkin_password": return ("check-in", address)
        case "queue_reset" where o.queuedBy?.message.hasPrefix("share of ") == true: return ("share removal", address)
        default: break
        }
        if o.requestedById == nil && o.requestedBy == "system" { return ("check-in", address) }
        return (o.reconcileAttempts > 0 ? "reconcile" : "remote reset", address)
    }
}
