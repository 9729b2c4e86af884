import Foundation
import GRDB
import Logging
import ResetPlugins
import Shared

/// The server's shared state, built once and passed to the routes and services.
struct Custody: Sendable {
    let config: ServerConfiguration
    let backend: Backend
    let vault: Vault
    let authorizer = Authorizer()
    let logger: Logger
    let now: @Sendable () -> Date
    let plugins: PluginRegistry
    let taskSignal: TaskSignal
    /// Wakes the listener runner when a change queued runs.
    let listenerSignal = TaskSignal()
    /// Wakes the notification sender when a notification is queued.
    let notifySignal = TaskSignal()
    /// Long polls and jobs of agents.
    let agentHub: AgentHub
    /// Test hooks: faults injected into resets (none in production).
    let faults: ResetFaults
    /// Failed logins, in memory; read back from the store before the first login after a start.
    let loginThrottle: LoginThrottle
    /// Seals and opens the login notices nodes tell each other (PostgreSQL; nil on SQLite).
    let loginNotices: LoginNotices?
    /// Sign-in, sessions, tokens and second factors.
    let identity: IdentityService
    /// User administration.
    let users: UserDirectory
    /// User groups.
    let userGroups: UserGroupService
    /// Static resource groups.
    let groups: GroupService
    /// Password policies, resource types and password settings.
    let policies: PolicyService
    /// Agent bundles, enrollment, bindings and revocation.
    let agentDirectory: AgentDirectory
    /// Reading the audit trail, and records that stand alone.
    let auditTrail: AuditTrail
    /// Resources.
    let resources: ResourceService
    /// Shares of resources, groups and accounts.
    let shares: ShareService
    /// The accounts of resources.
    let accounts: AccountService
    /// Groups' rotation schedules.
    let rotations: RotationSchedules
    /// Signed agent requests.
    let agentAuth: AgentAuthenticator
    /// Accounts agents report.
    let accountSync: AccountSync
    /// Poked after each commit that changed a task (GRDB observation): `GET /tasks/{id}?wait=` waits on it.
    let taskChanged = TaskSignal()
    let agentJobs: AgentJobService
    /// Group rotations, the integrity check and expiry.
    let rotationRuns: RotationRuns
    let integrity: IntegrityChecks
    let expiry: ExpiryCheck
    /// Inventory, expiry, compliance and activity reports.
    let reports: ReportService
    /// The scheduled report mail.
    let reportMailer: ReportMailer
    /// Listeners and custom plugins (administration), and their runs.
    let listeners: ListenerService
    let listenerRuns: ListenerRuns
    /// Adding accounts with their first password (one, or a CSV line).
    let accountCreation: AccountCreation
    /// Resources' reset configurations.
    let resetConfigs: ResetConfigService
    /// Reading and changing passwords in the vault.
    let passwords: PasswordService
    /// Access control: policies, requests, checkouts and check-ins.
    let access: AccessControlService
    /// Queue, claim, run, reconcile and commit resets and verifies.
    let engine: ResetEngine
    /// Backups into `backupDir`, on request and on `backupSchedule`.
    let backups: BackupService
    /// Audit purge into archives, retention, export.
    let auditLifecycle: AuditLifecycle
    /// Per-operation audit alerts and the daily digest.
    let auditAlerts: AuditAlerts
    let delivery: NotificationDelivery
    /// Notification channels, rules, templates and the outbox list.
    let notificationSettings: NotificationSettingsService
    let directory: DirectoryService
    /// What directory imports and syncs change things through.
    var directoryImports: DirectoryImportServices {
        DirectoryImportServices(resources: resources, groups: groups, accounts: accounts, creation: accountCreation)
    }
    /// The nodes serving this vault, and this node's health.
    let cluster: ClusterService
    /// PostgreSQL: this node's lease, checked before a new password is sent; nil on SQLite.
    let nodeLease: NodeLease?
    /// SQLite: GRDB's observation of `tasks` pokes `taskChanged` and `taskSignal` (PostgreSQL: `PGNotifications`).
    private let taskObservation: AnyDatabaseCancellable?

    /// The SQLite store, when the vault is on SQLite.
    var sqlite: Store? {
        if case .sqlite(let store) = backend { return store }
        return nil
    }

    init(config: ServerConfiguration, store: Store, vault: Vault, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        plugins: PluginRegistry = .builtIn, taskSignal: TaskSignal = TaskSignal(),
        crashAfterReset: @escaping @Sendable (TaskRecord) -> Bool = { _ in false }, faults: ResetFaults? = nil)
    {
        self.init(config: config, backend: .sqlite(store), vault: vault, logger: logger, now: now, plugins: plugins, taskSignal: taskSignal,
            crashAfterReset: crashAfterReset, faults: faults)
    }

    init(config: ServerConfiguration, backend: Backend, vault: Vault, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        plugins: PluginRegistry = .builtIn, taskSignal: TaskSignal = TaskSignal(),
        crashAfterReset: @escaping @Sendable (TaskRecord) -> Bool = { _ in false }, faults: ResetFaults? = nil)
    {
        self.config = config
        self.backend = backend
        self.vault = vault
        self.logger = logger
        self.now = now
        // Each server keeps its own privileged sessions; a Custody rebuilt from this one keeps its pool.
        self.plugins = plugins.sessions == nil ? plugins.sharing(SharedSessions(idleSeconds: config.resetSessionIdleSeconds)) : plugins
        self.taskSignal = taskSignal
        agentHub = AgentHub(maxLongPolls: config.agentMaxLongPolls)
        let faults = faults ?? ResetFaults(transport: { _ in nil }, crashAt: { task, point in point == .afterChange && crashAfterReset(task) })
        self.faults = faults
        // The engine's transport hook checks this node's lease (PostgreSQL); `faults` stays as given,
        // so a Custody rebuilt from this one (`withDialects`) wraps it once, with its own lease.
        var engineFaults = faults
        if case .postgres(_, let node) = backend {
            let lease = NodeLease(seconds: node.leaseSeconds)
            engineFaults.transport = { task in LeaseHook(lease: lease, inner: faults.transport(task)) }
            nodeLease = lease
        } else {
            nodeLease = nil
        }
        let store = Repositories.make(backend, vault: vault, historyDepth: config.passwordHistoryDepth, now: now,
            wakes: .init(tasks: taskSignal, listeners: listenerSignal, notices: notifySignal))
        let window = Double(config.lockoutWindowMinutes) * 60
        loginThrottle = LoginThrottle(.init(perAddress: config.loginAddressLimit, perNameAtAddress: config.lockoutThreshold,
            perName: config.loginNameLimit, window: window))
        var identity = IdentityService(store: store.identities, audit: store.audit, vault: vault, throttle: loginThrottle,
            settings: .init(bcryptCost: config.bcryptCost, sessionHours: config.sessionHours, lockoutThreshold: config.lockoutThreshold,
                lockoutWindowMinutes: config.lockoutWindowMinutes),
            now: now, logger: logger)
        if case .postgres(let pg, let node) = backend {
            let notices = LoginNotices(vault: vault, node: node.id)
            loginNotices = notices
            identity.tell = { kind, name, address, at in
                let notice = LoginNotices.Notice(kind: kind, name: name, address: address, at: at.timeIntervalSince1970, node: node.id)
                do {
                    let payload = try notices.seal(notice)
                    try await PGClusterStore(db: pg.db).notify(LoginNotices.channel, payload)
                } catch {
                    logger.warning("could not tell the other nodes of a login", metadata: ["error": "\(type(of: error))"])
                }
            }
        } else {
            loginNotices = nil
        }
        let directoryService = DirectoryService(store: store.directory, userStore: store.identities, users: store.users, userGroups: store.userGroups, audit: store.audit,
            authorizer: Authorizer(), dataDir: config.dataDir, now: now)
        directory = directoryService
        identity.directory = { username, password, ip in await directoryService.signIn(username: username, password: password, ip: ip) }
        self.identity = identity
        userGroups = UserGroupService(store: store.userGroups, authorizer: Authorizer())
        users = UserDirectory(store: store.users, authorizer: Authorizer(), bcryptCost: config.bcryptCost, now: now)
        groups = GroupService(store: store.groups, authorizer: Authorizer(), now: now)
        policies = PolicyService(store: store.policies, authorizer: Authorizer(), dialects: plugins.dialects)
        auditTrail = AuditTrail(store: store.audit, authorizer: Authorizer())
        resources = ResourceService(store: store.resources, authorizer: Authorizer(), now: now)
        accounts = AccountService(store: store.accounts, authorizer: Authorizer())
        rotations = RotationSchedules(store: store.rotations, authorizer: Authorizer(), now: now)
        if case .sqlite(let sqlite) = backend {
            taskObservation = DatabaseRegionObservation(tracking: Table("tasks")).start(in: sqlite.db, onError: { _ in }) {
                [taskChanged, taskSignal] _ in
                taskChanged.poke()
                taskSignal.poke()
            }
        } else {
            taskObservation = nil
        }
        agentAuth = AgentAuthenticator(agents: store.agents, nonces: NonceCache(window: 2 * AgentWire.maxSkew), now: now)
        accountSync = AccountSync(store: store.accounts, now: now)
        agentJobs = AgentJobService(jobs: store.agentJobs, agents: store.agents,
            settings: .init(queueSeconds: config.agentQueueSeconds, offerSeconds: config.agentOfferSeconds, leaseSeconds: config.agentLeaseSeconds),
            hub: agentHub, now: now)
        accountCreation = AccountCreation(store: store.accountCreation, authorizer: Authorizer(), now: now)
        resetConfigs = ResetConfigService(store: store.resetConfigs, authorizer: Authorizer())
        let programs = ListenerPrograms(vault: vault, workRoot: config.resolvedListenerWorkDir, outputLimit: config.listenerOutputBytes)
        let targets = ResetTargets(plugins: self.plugins, agentJobs: agentJobs, listenerProgram: programs.program)
        let access = AccessControlService(store: store.access, audit: auditTrail, authorizer: Authorizer(), targets: targets, now: now,
            deadlines: TaskSignal())
        self.access = access
        shares = ShareService(store: store.shares, authorizer: Authorizer(), access: access)
        passwords = PasswordService(store: store.passwords, audit: auditTrail, authorizer: Authorizer(), now: now, access: access)
        let runs = store.runs
        rotationRuns = RotationRuns(store: runs, groups: store.groups, authorizer: Authorizer(), targets: targets, signal: taskSignal, now: now)
        integrity = IntegrityChecks(store: runs, authorizer: Authorizer(), targets: targets, signal: taskSignal, now: now)
        expiry = ExpiryCheck(store: runs, targets: targets, signal: taskSignal, now: now)
        reports = ReportService(store: runs, expiry: expiry, authorizer: Authorizer(), now: now)
        let listenerStore = store.listeners
        listeners = ListenerService(store: listenerStore, authorizer: Authorizer(), vault: vault, defaultTimeout: config.listenerTimeoutSeconds,
            now: now)
        listenerRuns = ListenerRuns(store: listenerStore, vault: vault, programs: programs, logger: logger)
        engine = ResetEngine(store: store.tasks, audit: auditTrail, authorizer: Authorizer(),
            targets: targets,
            settings: .init(maxAttempts: config.resetMaxAttempts, retrySeconds: config.resetRetrySeconds, reconcileRetries: config.reconcileRetries,
                reconcileSlowSeconds: config.reconcileSlowSeconds, perHostLimit: config.resetPerHostLimit),
            faults: engineFaults, signal: taskSignal, now: now, logger: logger,
            accessGate: { rid, aid, p, chosen in try await access.gateChange(rid: rid, aid: aid, by: p, chosen: chosen) })
        let channels = store.notificationSettings
        notificationSettings = NotificationSettingsService(store: channels, outbox: store.outbox, audit: auditTrail, authorizer: Authorizer(),
            now: now)
        reportMailer = ReportMailer(store: store.reportSchedules, users: store.users, reports: reports, channels: { try await channels.channels() },
            authorizer: Authorizer(), now: now)
        delivery = NotificationDelivery(outbox: store.outbox, channels: { try await channels.channels() },
            attempts: config.notificationAttempts, logger: logger, now: now)
        var backupSettings = BackupService.Settings(dir: config.resolvedBackupDir, keep: config.backupKeep,
            schedule: BackupSchedule.parse(config.backupSchedule) ?? nil, passphraseFile: config.backupPassphraseFile,
            sources: .of(config, configFile: config.configFile))
        if case .postgres = backend { backupSettings.storeKind = "postgres" }
        let keys: AuditKeyBox
        switch backend {
        case .sqlite(let s): keys = s.auditKey
        case .postgres(let pg, _): keys = pg.auditKey
        }
        auditLifecycle = AuditLifecycle(store: store.auditPurge, trail: store.audit, auditKey: { keys.key }, authorizer: Authorizer(),
            settings: .init(archiveDir: config.resolvedAuditArchiveDir, retentionDays: config.auditRetentionDays), logger: logger, now: now)
        auditAlerts = AuditAlerts(store: store.auditAlerts, authorizer: Authorizer(), now: now)
        backups = BackupService(store: store.backups, authorizer: Authorizer(), vault: vault, settings: backupSettings, logger: logger, now: now)
        let (node, kind): (String, String)
        switch backend {
        case .sqlite: (node, kind) = (config.resolvedNodeName, "sqlite")
        case .postgres(_, let n): (node, kind) = (n.id, "postgres")
        }
        cluster = ClusterService(store: store.cluster, authorizer: Authorizer(), node: node, version: CustodyRelease.version, kind: kind,
            startedAt: now())
        agentDirectory = AgentDirectory(agents: store.agents, bindings: store.agentBindings, jobs: agentJobs, authorizer: Authorizer(),
            settings: .init(enrollmentTokenDays: config.enrollmentTokenDays, scheduleInterval: config.agentScheduleInterval,
                certificateFile: config.tlsCertificateFile ?? config.tlsDir + "/server.crt"),
            now: now)
    }
}

/// Faults a test injects into resets: into the plugin's transport (the job's exposure) and the
/// process "dying" at a point of the reset (the task is left as a crash would leave it).
struct ResetFaults: Sendable {
    enum CrashPoint: String, Sendable, CaseIterable { case afterPending, afterChange, afterVerify }
    var transport: @Sendable (TaskRecord) -> (any ResetFaultHook)? = { _ in nil }
    var crashAt: @Sendable (TaskRecord, CrashPoint) -> Bool = { _, _ in false }
}

/// What a log of the service graph (ServiceLifecycle at `debug`) shows of the server: its name,
/// never the configuration, keys and stores it holds.
extension Custody: CustomStringConvertible, CustomDebugStringConvertible {
    var description: String { "Custody" }
    var debugDescription: String { "Custody" }
}
