import Foundation
import Logging
import NIOCore
import PostgresNIO

#if canImport(Glibc)
import Glibc
#endif

/// A database that vanishes without closing its connections (its host powered off, a failover that
/// moved its address) is noticed in seconds, not when TCP gives up (about 15 minutes): keepalive
/// probes for a connection waiting on an answer, and a user timeout for data never acknowledged.
/// postgres-nio 1.33 offers no socket options, so they are set on its channel, found by reflection;
/// `PGBlackHoleTests` reads them back, so a driver that moves the channel is caught.
enum PGSocketOptions {
    /// Idle seconds before the first probe, seconds between probes, probes lost before the
    /// connection is closed, and how long sent data may stay unacknowledged.
    static let keepIdle = 10
    static let keepInterval = 5
    static let keepCount = 3
    static let userTimeoutMilliseconds = 20_000

    /// The connection's channel, when the driver keeps it where it did in 1.33.
    static func channel(of connection: PostgresConnection) -> (any Channel)? {
        Mirror(reflecting: connection).children.first { $0.label == "channel" }?.value as? any Channel
    }

    /// Sets the options on the connection's socket; false (said once) when they cannot be set.
    @discardableResult
    static func apply(to connection: PostgresConnection, logger: Logger? = nil) async -> Bool {
        guard let channel = channel(of: connection) else {
            warnOnce(logger, "the PostgreSQL driver hides its channel: a vanished database is noticed only when TCP gives up")
            return false
        }
        let tcp = SocketOptionLevel(IPPROTO_TCP)
        do {
            try await channel.setOption(.socketOption(.so_keepalive), value: 1).get()
            try await channel.setOption(.socket(tcp, SocketOptionName(TCP_KEEPIDLE)), value: keepIdle).get()
            try await channel.setOption(.socket(tcp, SocketOptionName(TCP_KEEPINTVL)), value: keepInterval).get()
            try await channel.setOption(.socket(tcp, SocketOptionName(TCP_KEEPCNT)), value: keepCount).get()
            try await channel.setOption(.socket(tcp, SocketOptionName(TCP_USER_TIMEOUT)), value: userTimeoutMilliseconds).get()
            return true
        } catch {
            // A connection that closed meanwhile, or a socket that refuses the options: said once.
            warnOnce(logger, "could not set keepalive on a PostgreSQL connection: a vanished database is noticed only when TCP gives up",
                error: error)
            return false
        }
    }

    private static let warned = Warned()
    private static func warnOnce(_ logger: Logger?, _ message: Logger.Message, error: (any Error)? = nil) {
        guard let logger, warned.first() else { return }
        logger.warning(message, metadata: error.map { ["error": "\(type(of: $0))"] } ?? [:])
    }

    private final class Warned: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        func first() -> Bool { lock.withLock { defer { done = true }; return !done } }
    }
}
