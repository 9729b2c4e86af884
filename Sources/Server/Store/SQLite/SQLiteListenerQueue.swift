import Foundation
import GRDB
import Shared

/// Queues listener runs in the transaction that commits a change, so a crash cannot lose one;
/// `ListenerRunner` runs them off the reset path.
struct SQLiteListenerQueue: Sendable {
    struct Secrets: Codable {
        var old: Secret?
        var new: Secret
    }

    let vault: Vault
    let now: @Sendable () -> Date
    /// Wakes the runner once the transaction has committed.
    let queued: @Sendable () -> Void

    /// Queues a run of every approved listener for this resource's type; returns how many.
    @discardableResult
    func queue(_ r: ResourceRecord, _ a: AccountRecord, old: Secret?, new: Secret, trigger: String, _ db: Database) throws -> Int {
        let listeners = try ListenerRecord.filter(Column("status") == ListenerRecord.Status.active.rawValue).fetchAll(db)
            .filter { $0.applies(to: r.type) }
        guard !listeners.isEmpty else { return 0 }
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealKey] = true
        let plain = try encoder.encode(Secrets(old: old, new: new))
        for l in listeners {
            let id = newID()
            let sealed = try vault.seal(plain, identity: Vault.listenerRunIdentity(id: id))
            try ListenerRunRecord(id: id, listenerId: l.id, revision: l.revision, resourceId: r.id, accountId: a.id, trigger: trigger,
                sealedSecrets: sealed, state: .queued, createdAt: now()).insert(db)
        }
        db.afterNextTransaction { [queued] _ in queued() }
        return listeners.count
    }
}
