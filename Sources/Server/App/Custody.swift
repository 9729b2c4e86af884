import Foundation
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
    }
}

/// Faults a test injects into resets: into the plugin's transport (the job's exposure) and the
/// process "dying" at a point of the reset (the task is left as a crash would leave it).
struct ResetFaults: Sendable {
    enum CrashPoint: String, Sendable, CaseIterable { case afterPending, afterChange, afterVerify }
    var transport: @Sendable (TaskRecord) -> (any ResetFaultHook)? = { _ in nil }
    var crashAt: @Sendable (TaskRecord, CrashPoint) -> Bool = { _, _ in false }
}
