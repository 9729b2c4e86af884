import Foundation
import Shared

/// `SQLiteListenerQueue` on PostgreSQL: listener runs queued in the transaction that commits a
/// change, the runner woken once it has committed.
struct PGListenerQueue: Sendable {
    let vault: Vault
    let now: @Sendable () -> Date
    let queued: @Sendable () -> Void

    /// Queues a run of every approved listener for this resource's type; returns how many.
    @discardableResult
    func queue(_ r: ResourceRecord, _ a: AccountRecord, old: Secret?, new: Secret, trigger: String, _ c: PGConnection) async throws -> Int {
        let listeners = try await c.all(ListenerRecord.self, "SELECT * FROM listeners WHERE status = ?", [ListenerRecord.Status.active.rawValue])
            .filter { $0.applies(to: r.type) }
        guard !listeners.isEmpty else { return 0 }
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealKey] = true
        let plain = try encoder.encode(SQLiteListenerQueue.Secrets(old: old, new: new))
        for l in listeners {
            let id = newID()
            let sealed = try vault.seal(plain, identity: Vault.listenerRunIdentity(id: id))
            try await c.insert(ListenerRunRecord(id: id, listenerId: l.id, revision: l.revision, resourceId: r.id, accountId: a.id, trigger: trigger,
                sealedSecrets: sealed, state: .queued, createdAt: now()), into: "listenerRuns")
        }
        c.afterCommit(queued)
        return listeners.count
    }
}
