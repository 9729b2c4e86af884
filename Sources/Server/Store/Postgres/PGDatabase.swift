import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Shared

/// A PostgreSQL database the nodes share, through one postgres-nio pool. The pool is a `Service`:
/// it runs in the server's `ServiceGroup` (or a test's task) for as long as the store is used.
///
/// Writes keep SQLite's single-writer rule across the cluster: each write transaction first takes
/// one transaction-scoped advisory lock, so a change, its audit record and the audit chain's head
/// are written by one node at a time, and every statement after the lock (READ COMMITTED) sees
/// what the previous writer committed. Reads take no lock.
struct PGDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The master key this node holds, checked by every write (shared by copies of this value).
    let keyGuard = PGKeyGuard()
    /// How long a reset's store call may take before its run gives up its hold on the task
    /// (`guarded`); nil for the offline commands' long transactions (store migrate, key rotation).
    var deadline: Duration? = .seconds(30)
    /// How long a call waits for a connection before it fails as `StoreUnavailable` (the pool alone
    /// would wait for its circuit breaker, about a minute, while the database is down).
    var leaseTimeout: Duration? = .seconds(30)

    /// Advisory lock keys (`pg_advisory_*`), the same on every node.
    enum LockKey: Int64 {
        case writer = 0x6375_7374_0001
        case migrations = 0x6375_7374_0002
    }

    init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    init(_ location: PostgresLocation, password: Secret?, maximumConnections: Int = 20, idleTimeout: Duration = .seconds(60),
        deadline: Duration? = .seconds(30), logger: Logger) throws
    {
        var tls: PostgresClient.Configuration.TLS
        switch location.sslMode {
        case .disable: tls = .disable
        case .require:
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateVerification = .none
            tls = .require(c)
        case .verifyFull:
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateVerification = .fullVerification
            if let ca = location.caFile { c.trustRoots = .file(ca) }
            tls = .require(c)
        }
        var config = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
            password: password?.reveal(), database: location.database, tls: tls)
        config.options.maximumConnections = maximumConnections
        config.options.connectionIdleTimeout = idleTimeout
        // A node cut off mid-transaction must not hold the cluster's writer lock for long.
        config.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "30000")]
        config.options.connectTimeout = .seconds(10)
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .notice)  // statements carry sealed values and hashes
        self.init(client: PostgresClient(configuration: config, backgroundLogger: quiet), logger: quiet)
        self.deadline = deadline
        self.leaseTimeout = deadline == nil ? nil : .seconds(30)
    }

    /// Runs the pool until the task is cancelled (the server runs it as a `Service` instead).
    func run() async { await client.run() }

    /// Runs `body` on one connection, outside any transaction.
    func read<T: Sendable>(_ body: @Sendable (PGConnection) async throws -> T) async throws -> T {
        do {
            return try await leased { c in try await guarded(c) { try await body(PGConnection(connection: c, logger: logger)) } }
        } catch { throw PGDatabase.unwrap(error) }
    }

    /// Runs `body` in one transaction holding the cluster's writer lock; any error rolls it back.
    func write<T: Sendable>(_ body: @Sendable (PGConnection) async throws -> T) async throws -> T {
        let hooks = PGCommitHooks()
        let value: T
        do {
            value = try await leased { c in
                try await guarded(c) {
                    // Not postgres-nio's `withTransaction`: it leaves BEGIN's and COMMIT's answers
                    // unread (see `PGConnection.execute`).
                    let conn = PGConnection(connection: c, logger: logger, commitHooks: hooks)
                    try await conn.execute("BEGIN")
                    do {
                        if keyGuard.active {
                            // One statement: the lock, then the key the vault is sealed with now.
                            try keyGuard.check(try await conn.scalar(Data.self,
                                "SELECT (SELECT value FROM vaultMeta WHERE key = 'canary') FROM pg_advisory_xact_lock(?)", [LockKey.writer.rawValue]))
                        } else {
                            try await conn.execute("SELECT pg_advisory_xact_lock(?)", [LockKey.writer.rawValue])
                        }
                        let value = try await body(conn)
                        try await conn.execute("COMMIT")
                        return value
                    } catch {
                        try? await conn.execute("ROLLBACK")
                        throw error
                    }
                }
            }
        } catch { throw PGDatabase.unwrap(error) }
        hooks.run()
        return value
    }

    /// Runs `body` on a pooled connection, failing as `StoreUnavailable` if none comes within
    /// `leaseTimeout`. Only the wait is bounded: once leased, the body runs to its end.
    private func leased<T: Sendable>(_ body: @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        guard let leaseTimeout else { return try await client.withConnection(body) }
        let gate = LeaseGate()
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { c in
                        try gate.enter()
                        return try await body(c)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: leaseTimeout)
                    if gate.expire() { throw StoreUnavailable("no connection within \(leaseTimeout)") }
                    return nil
                }
                while let next = try await group.next() {
                    if let value = next {
                        group.cancelAll()
                        return value
                    }
                }
                throw CancellationError()
            }
        }
    }

    /// Runs `body` on `c`, watched. Seen when PostgreSQL shut down at the instant a write began: the
    /// call waited forever on a connection that was gone, even after the database came back and
    /// even once the connection was closed (postgres-nio 1.33; closing a leased connection also
    /// wedged the pool, so it is not done). Past the deadline a reset's run waiting on the call
    /// gives up its hold (`HeldTasks.giveUp`): the task lapses and is reconciled instead of staying
    /// `running` under a live node.
    private func guarded<T>(_ c: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        guard let deadline, let run = RunningTask.current else { return try await body() }
        let watchdog = Task { [logger] in
            try await Task.sleep(for: deadline)
            logger.warning("a PostgreSQL call ran past its deadline; its reset gives up its hold",
                metadata: ["deadline": "\(deadline)", "task": "\(run.id)"])
            run.held.giveUp(run.id)
        }
        defer { watchdog.cancel() }
        return try await body()
    }

    /// The closure's own error (a `StoreError`, a refusal) rather than the transaction's wrapper;
    /// a unique-key violation is a conflict.
    static func unwrap(_ error: any Error) -> any Error {
        var e = error
        if let t = e as? PostgresTransactionError {
            e = t.closureError ?? t.commitError ?? t.beginError ?? e
        }
        if let p = e as? PSQLError, let state = p.serverInfo?[.sqlState] {
            if state == "23505" { return StoreError(code: .conflict, message: p.serverInfo?[.detail] ?? "a unique key is taken") }
            // Connection exceptions, the server shutting down or starting, a session it ended for
            // idling (in a transaction, 25P03, or not, 57P05), no connection slot left.
            if state.hasPrefix("08") || ["57P01", "57P02", "57P03", "57P05", "25P03", "53300"].contains(state) {
                return StoreUnavailable("PostgreSQL \(state): \(p.serverInfo?[.message] ?? "")")
            }
            return PGError(sqlState: state, message: p.serverInfo?[.message] ?? "PostgreSQL refused the statement")
        }
        if let p = e as? PSQLError, Self.lostConnection.contains(p.code) { return StoreUnavailable("\(p.code)") }
        // The pool's own (its module is not exported): the circuit breaker after failed connects.
        if "\(type(of: e))" == "ConnectionPoolError" { return StoreUnavailable("no connection could be made") }
        return e
    }

    /// The driver's errors that say the connection went or never came, not what a statement did.
    static let lostConnection: [PSQLError.Code] = [.connectionError, .serverClosedConnection, .clientClosedConnection,
        .uncleanShutdown, .poolClosed, .sslUnsupported, .failedToAddSSLHandler]
}

/// A statement PostgreSQL refused, with its SQLSTATE; never the statement's values.
struct PGError: Error, CustomStringConvertible {
    let sqlState: String
    let message: String
    var description: String { "PostgreSQL \(sqlState): \(message)" }
}

/// Decides once whether a connection came before the lease deadline.
private final class LeaseGate: @unchecked Sendable {
    private let lock = NSLock()
    private var state = 0  // 0 waiting, 1 leased, 2 expired

    /// The connection came: refused if the deadline passed first.
    func enter() throws {
        try lock.withLock {
            if state == 2 { throw StoreUnavailable("the connection came after the deadline") }
            state = 1
        }
    }

    /// The deadline passed: true if no connection had come.
    func expire() -> Bool {
        lock.withLock {
            if state == 1 { return false }
            state = 2
            return true
        }
    }
}
