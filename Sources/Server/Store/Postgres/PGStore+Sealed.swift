import Foundation

/// What the repositories that seal values or wake a worker need beyond the database: the vault,
/// the history depth, this node, the clock, and the wake-ups run after a commit.
struct PGWiring: Sendable {
    var vault: Vault
    var historyDepth: Int
    var node: PGNode
    var now: @Sendable () -> Date = { Date() }
    var tasksQueued: @Sendable () -> Void = {}
    var noticesQueued: @Sendable () -> Void = {}
    var listenersQueued: @Sendable () -> Void = {}
}

extension PGStore {
    func secrets(_ w: PGWiring) -> PGSecretStore { PGSecretStore(vault: w.vault, historyDepth: w.historyDepth) }
    func notices(_ w: PGWiring) -> PGNotices { PGNotices(vault: w.vault, now: w.now, queued: w.noticesQueued) }
    func listenerQueue(_ w: PGWiring) -> PGListenerQueue { PGListenerQueue(vault: w.vault, now: w.now, queued: w.listenersQueued) }

    func tasks(_ w: PGWiring) -> PGTaskStore {
        PGTaskStore(db: db, log: auditLog, node: w.node, secrets: secrets(w), notices: notices(w), listeners: listenerQueue(w))
    }
    func passwords(_ w: PGWiring) -> PGPasswordStore {
        PGPasswordStore(db: db, log: auditLog, secrets: secrets(w), notices: notices(w), listeners: listenerQueue(w))
    }
    func listeners(_ w: PGWiring) -> PGListenerStore { PGListenerStore(db: db, log: auditLog, notices: notices(w), node: w.node.id) }
    func runs(_ w: PGWiring) -> PGRunStore { PGRunStore(db: db, log: auditLog, secrets: secrets(w), notices: notices(w), queued: w.tasksQueued) }
    func accountCreation(_ w: PGWiring) -> PGAccountCreationStore { PGAccountCreationStore(db: db, log: auditLog, secrets: secrets(w)) }
    func notificationSettings(_ w: PGWiring) -> PGNotificationSettingsStore { PGNotificationSettingsStore(db: db, log: auditLog, vault: w.vault) }
    func directory(_ w: PGWiring) -> PGDirectoryStore { PGDirectoryStore(db: db, log: auditLog, vault: w.vault) }
}
