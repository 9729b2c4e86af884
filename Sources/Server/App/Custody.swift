import Foundation
import GRDB
import Logging
import Shared

/// The server's shared state, built once and passed to the routes and services.
struct Custody: Sendable {
    let config: ServerConfiguration
    let store: Store
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
    let agentHub = AgentHub()
    /// Test hooks: faults injected into resets (none in production).
    let faults: ResetFaults
    /// Failed logins, in memory; restored from `loginFailures` at start.
    let loginThrottle: LoginThrottle
    /// Agent request nonces within the replay window; read back from `agentNonces` on first use after a start.
    let agentNonces = NonceCache(window: 2 * AgentWire.maxSkew)
    /// Poked after each commit that changed a task (GRDB observation): `GET /tasks/{id}?wait=` waits on it.
    let taskChanged = TaskSignal()
    let agentJobs: AgentJobService
    let delivery: NotificationDelivery
    private let taskObservation: AnyDatabaseCancellable

    init(config: ServerConfiguration, store: Store, vault: Vault, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        plugins: PluginRegistry = .builtIn, taskSignal: TaskSignal = TaskSignal(),
        crashAfterReset: @escaping @Sendable (TaskRecord) -> Bool = { _ in false }, faults: ResetFaults? = nil)
    {
        self.config = config
        self.store = store
        self.vault = vault
        self.logger = logger
        self.now = now
        self.plugins = plugins
        self.taskSignal = taskSignal
        self.faults = faults ?? ResetFaults(transport: { _ in nil }, crashAt: { task, point in point == .afterChange && crashAfterReset(task) })
        let window = Double(config.lockoutWindowMinutes) * 60
        loginThrottle = LoginThrottle(.init(perAddress: config.loginAddressLimit, perNameAtAddress: config.lockoutThreshold,
            perName: config.loginNameLimit, window: window))
        let since = now().seconds - window
        let trustedSince = now().seconds - loginThrottle.limits.trustedFor
        if let (failures, signIns) = try? store.db.read({ db in
            (try Row.fetchAll(db, sql: "SELECT username, address, at FROM loginFailures WHERE at >= ?", arguments: [since]),
                try Row.fetchAll(db, sql: """
                    SELECT user, ip, MAX(at) AS at FROM audit WHERE operation = 'login' AND outcome = 'success' AND at >= ?
                    GROUP BY user, ip ORDER BY at DESC LIMIT 100000
                    """, arguments: [trustedSince]))
        }) {
            loginThrottle.restore(failures: failures.map { (name: $0["username"], address: $0["address"], at: $0["at"]) },
                signIns: signIns.map { (name: Tokens.hash(($0["user"] as String).lowercased()), address: $0["ip"], at: $0["at"]) })
        }
        taskObservation = DatabaseRegionObservation(tracking: Table("tasks")).start(in: store.db, onError: { _ in }) {
            [taskChanged] _ in taskChanged.poke()
        }
        agentJobs = AgentJobService(jobs: store.agentJobs, agents: store.agents,
            settings: .init(queueSeconds: config.agentQueueSeconds, offerSeconds: config.agentOfferSeconds, leaseSeconds: config.agentLeaseSeconds),
            hub: agentHub, now: now)
        delivery = NotificationDelivery(outbox: store.outbox, channels: { [store, vault] in try await store.read { db in try NotificationChannels.load(vault, db) } },
            attempts: config.notificationAttempts, logger: logger, now: now)
    }
}

/// Faults a test injects into resets: into the plugin's transport (the job's exposure) and the
/// process "dying" at a point of the reset (the task is left as a crash would leave it).
struct ResetFaults: Sendable {
    enum CrashPoint: String, Sendable, CaseIterable { case afterPending, afterChange, afterVerify }
    var transport: @Sendable (TaskRecord) -> (any ResetFaultHook)? = { _ in nil }
    var crashAt: @Sendable (TaskRecord, CrashPoint) -> Bool = { _, _ in false }
}
