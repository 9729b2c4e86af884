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

    init(config: ServerConfiguration, store: Store, vault: Vault, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.config = config
        self.store = store
        self.vault = vault
        self.logger = logger
        self.now = now
    }
}
