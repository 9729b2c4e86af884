import Foundation
import Shared

/// A verify task: does the vault's password log in? It is also what settles candidates that an
/// unresolved reset left: the current password working drops them; a candidate working becomes
/// the current password.
extension ResetEngine {
    func runVerify(_ task: TaskRecord) async throws {
        var c = try await context(task)
        let stale = try await store.candidates(account: task.accountId).filter { !$0.active }
        // No password known yet: nothing to log in with, so nothing is tried but the candidates.
        let code = c.current == nil ? .authenticationFailed : try await verifyResult(&c, c.current, task)
        if code == nil {
            if !stale.isEmpty {
                try await store.dropCandidates(stale.map(\.id), task: task.id, audit: AuditEvent(user: "system", ip: "server", operation: "candidates_dropped",
                    message: "task \(task.id): the current password works; \(stale.count) candidate(s) dropped",
                    resourceId: task.resourceId, accountId: task.accountId))
            }
            try await finish(task, state: .succeeded, code: "ok", message: "the stored password works", sync: .inSync)
            return
        }
        if code == .authenticationFailed {
            // At most the newest two: each try is a failed login on the target if it is wrong.
            for cand in stale.prefix(2) where try await verifyResult(&c, cand.secret, task) == nil {
                let audit = AuditEvent(user: "system", ip: "server", operation: "change_password",
                    message: "task \(task.id): the candidate from \(cand.taskId.map { "task \($0)" } ?? "a reset") works on the target; it is now current",
                    resourceId: task.resourceId, accountId: task.accountId)
                if try await store.promote(cand.id, for: task, at: now(), audit: audit) {
                    try await finish(task, state: .succeeded, code: "ok", message: "a candidate password works and is now the current one",
                        sync: .inSync, checkSuperseded: false)
                    return
                }
            }
        }
        if c.current == nil {
            try await finish(task, state: .failed, code: Self.passwordUnknown,
                message: "no password of this account is known yet (its first reset sets one)"
                    + (stale.isEmpty ? "; nothing was tried on the target" : "; no candidate of an unresolved reset could be confirmed"))
            return
        }
        let sync: SyncStatus = code == .authenticationFailed ? .outOfSync : code == .unreachable ? .unreachable : .unknown
        try await finish(task, state: .failed, code: code?.rawValue ?? "unknown", message: "the stored password did not verify (\(code?.rawValue ?? ""))",
            sync: sync)
    }
}
