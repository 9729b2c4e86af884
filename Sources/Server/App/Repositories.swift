import Foundation
import GRDB

/// Where a server keeps its vault: SQLite in the data directory, or PostgreSQL shared with other
/// nodes (this node named).
enum Backend: Sendable {
    case sqlite(Store)
    case postgres(PGStore, PGNode)
}

/// The repositories the services run on, all from one backend, wired to the signals that wake
/// the task engine, the listener runner and the notification sender after a commit.
struct Repositories: Sendable {
    var identities: any IdentityStore
    var audit: any AuditStore
    var userGroups: any UserGroupStore
    var users: any UserStore
    var groups: any GroupStore
    var policies: any PolicyStore
    var resources: any ResourceStore
    var shares: any ShareStore
    var accounts: any AccountStore
    var rotations: any RotationStore
    var agents: any AgentStore
    var agentJobs: any AgentJobStore
    var agentBindings: any AgentBindingStore
    var outbox: any OutboxStore
    var tasks: any TaskStore
    var accountCreation: any AccountCreationStore
    var resetConfigs: any ResetConfigStore
    var passwords: any PasswordStore
    var runs: any RunStore
    var listeners: any ListenerStore
    var notificationSettings: any NotificationSettingsStore
    var directory: any DirectoryStore
    var cluster: any ClusterStore
    var access: any AccessStore
    var backups: any BackupStore
    var auditPurge: any AuditPurgeStore
    var auditAlerts: any AuditAlertStore
    var reportSchedules: any ReportScheduleStore

    struct Wakes: Sendable {
        var tasks: TaskSignal
        var listeners: TaskSignal
        var notices: TaskSignal
    }

    static func make(_ backend: Backend, vault: Vault, historyDepth: Int, now: @escaping @Sendable () -> Date, wakes: Wakes) -> Repositories {
        switch backend {
        case .sqlite(let store): sqlite(store, vault: vault, historyDepth: historyDepth, now: now, wakes: wakes)
        case .postgres(let store, let node): postgres(store, node: node, vault: vault, historyDepth: historyDepth, now: now, wakes: wakes)
        }
    }

    static func sqlite(_ store: Store, vault: Vault, historyDepth: Int, now: @escaping @Sendable () -> Date, wakes: Wakes) -> Repositories {
        let secrets = SecretStore(vault: vault, historyDepth: historyDepth)
        let notices = SQLiteNotices(vault: vault, now: now, queued: { [s = wakes.notices] in s.poke() })
        let listenerQueue = SQLiteListenerQueue(vault: vault, now: now, queued: { [s = wakes.listeners] in s.poke() })
        return Repositories(identities: store.identities, audit: store.audit, userGroups: store.userGroups, users: store.users, groups: store.groups,
            policies: store.policies, resources: store.resources, shares: store.shares, accounts: store.accounts, rotations: store.rotations,
            agents: store.agents, agentJobs: store.agentJobs, agentBindings: store.agentBindings, outbox: store.outbox,
            tasks: SQLiteTaskStore(db: store.db, secrets: secrets, notices: notices, listeners: listenerQueue),
            accountCreation: SQLiteAccountCreationStore(db: store.db, secrets: secrets), resetConfigs: SQLiteResetConfigStore(db: store.db),
            passwords: SQLitePasswordStore(db: store.db, appends: store.appends, secrets: secrets, notices: notices, listeners: listenerQueue),
            runs: SQLiteRunStore(db: store.db, secrets: secrets, notices: notices, queued: { [s = wakes.tasks] in s.poke() }),
            listeners: SQLiteListenerStore(db: store.db, notices: notices),
            notificationSettings: SQLiteNotificationSettingsStore(db: store.db, vault: vault), directory: SQLiteDirectoryStore(db: store.db, vault: vault),
            cluster: SQLiteClusterStore(db: store.db), access: SQLiteAccessStore(db: store.db, notices: notices, queued: { [s = wakes.tasks] in s.poke() }),
            backups: SQLiteBackupStore(db: store.db, notices: notices), auditPurge: SQLiteAuditPurgeStore(db: store.db),
            auditAlerts: SQLiteAuditAlertStore(db: store.db, notices: notices),
            reportSchedules: SQLiteReportScheduleStore(db: store.db, queued: { [s = wakes.notices] in s.poke() }))
    }

    static func postgres(_ store: PGStore, node: PGNode, vault: Vault, historyDepth: Int, now: @escaping @Sendable () -> Date, wakes: Wakes)
        -> Repositories
    {
        let w = PGWiring(vault: vault, historyDepth: historyDepth, node: node, now: now, tasksQueued: { [s = wakes.tasks] in s.poke() },
            noticesQueued: { [s = wakes.notices] in s.poke() }, listenersQueued: { [s = wakes.listeners] in s.poke() })
        return Repositories(identities: store.identities, audit: store.audit, userGroups: store.userGroups, users: store.users, groups: store.groups,
            policies: store.policies, resources: store.resources, shares: store.shares, accounts: store.accounts, rotations: store.rotations,
            agents: store.agents, agentJobs: store.agentJobs, agentBindings: store.agentBindings, outbox: store.outbox, tasks: store.tasks(w),
            accountCreation: store.accountCreation(w), resetConfigs: store.resetConfigs, passwords: store.passwords(w), runs: store.runs(w),
            listeners: store.listeners(w), notificationSettings: store.notificationSettings(w), directory: store.directory(w),
            cluster: PGClusterStore(db: store.db), access: PGAccessStore(db: store.db, log: store.auditLog, notices: store.notices(w), queued: w.tasksQueued),
            backups: PGBackupStore(db: store.db, log: store.auditLog, notices: store.notices(w)),
            auditPurge: PGAuditPurgeStore(db: store.db, log: store.auditLog),
            auditAlerts: PGAuditAlertStore(db: store.db, log: store.auditLog, notices: store.notices(w)),
            reportSchedules: PGReportScheduleStore(db: store.db, log: store.auditLog, queued: w.noticesQueued))
    }
}
