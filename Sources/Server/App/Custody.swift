import Foundation
import Logging

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
    /// Activity of console sessions (idle timeout).
    /// Test hook: true makes a reset stop right after the target's answer, as if the process died.
    let crashAfterReset: @Sendable (TaskRecord) -> Bool

    init(config: ServerConfiguration, store: Store, vault: Vault, logger: Logger, now: @escaping @Sendable () -> Date = Date.init,
        plugins: PluginRegistry = .builtIn, taskSignal: TaskSignal = TaskSignal(),
        crashAfterReset: @escaping @Sendable (TaskRecord) -> Bool = { _ in false })
    {
        self.config = config
        self.store = store
        self.vault = vault
        self.logger = logger
        self.now = now
        self.plugins = plugins
        self.taskSignal = taskSignal
        self.crashAfterReset = crashAfterReset
    }
}
