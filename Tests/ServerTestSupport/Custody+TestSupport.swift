import Foundation
import GRDB
import Shared

@testable import Server

/// What tests that set state up inside their own transaction use: the server's own store-layer
/// pieces, built the way `Custody` builds them.
extension Custody {
    /// The SQLite store the test harness runs on.
    var store: Store { sqlite! }

    /// A task built the way the engine builds one.
    func newTask(_ kind: TaskRecord.Kind, _ r: ResourceRecord, _ a: AccountRecord, by user: String, reason: String?, _ db: Database) throws
        -> TaskRecord
    {
        ResetEngine.newTask(kind, try SQLiteTaskStore.target(r, a, db), by: user, reason: reason, at: now())
    }

    var secrets: SecretStore { SecretStore(vault: vault, historyDepth: config.passwordHistoryDepth) }

    /// Queues a run of every approved listener for the resource's type in the caller's transaction.
    @discardableResult
    func queueListeners(_ r: ResourceRecord, _ a: AccountRecord, old: Secret?, new: Secret, trigger: String, _ db: Database) throws -> Int {
        try SQLiteListenerQueue(vault: vault, now: now, queued: { [listenerSignal] in listenerSignal.poke() })
            .queue(r, a, old: old, new: new, trigger: trigger, db)
    }

    /// The reset plugin of a resource type bound to `external:<name>`: an approved custom listener.
    func externalPlugin(named name: String) async throws -> any ResetPlugin {
        try engine.targets.custom(name, try await listeners.store.listener(name)?.record)
    }
}
