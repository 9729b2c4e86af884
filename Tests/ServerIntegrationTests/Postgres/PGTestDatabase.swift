import Foundation
import Logging
import Shared
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Fresh, empty databases on the test PostgreSQL server (a real one, started once per run), each
/// owned by the store's login role and reached over TLS checked against the test CA. A server that
/// cannot start fails the test that needs it, with the reason; nothing is skipped.
enum PGTestDatabase {
    static let role = "custody_store"
    static let password = "Store-Pass-" + String(UUID().uuidString.prefix(8))
    private static let counter = Counter()

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "the PostgreSQL test server did not start (initdb/postgres under \(PostgresServer.dir), running as root needed)" }
    }

    /// The store's role, allowed to create databases (so tests create theirs over an async
    /// connection, never blocking the cooperative pool on `psql`).
    private static let roleMade: Bool = {
        guard PostgresServer.available else { return false }
        return PostgresServer.root("CREATE ROLE \(role) LOGIN CREATEDB PASSWORD '\(password)';")
    }()

    static func location(_ name: String) -> PostgresLocation {
        PostgresLocation(host: "127.0.0.1", port: PostgresServer.port, user: role, database: name, sslMode: .verifyFull, caFile: PostgresServer.caFile)
    }

    /// Where `CREATE DATABASE` runs: the server's `postgres` database, as the store's role.
    private static let admin: PGDatabase? = {
        guard roleMade else { return nil }
        guard let db = try? make(name: "postgres", connections: 2, idle: .seconds(30)) else { return nil }
        return db
    }()

    /// A database migrated once, which new databases copy (cheaper than migrating each).
    private static let template = Once<String>()

    /// A new database's name: a copy of the migrated template, or empty (`migrated: false`).
    static func create(migrated: Bool = true) async throws -> String {
        guard let admin = await offPool({ admin }) else { throw Unavailable() }
        let name = "custody_\(getpid())_\(counter.next())"
        guard migrated else {
            try await admin.read { c in try await c.execute("CREATE DATABASE \(name)") }
            return name
        }
        let template = try await template.value {
            let t = "custody_\(getpid())_template"
            try await admin.read { c in try await c.execute("CREATE DATABASE \(t)") }
            let db = try make(name: t, connections: 1, idle: .milliseconds(200))
            try await PGMigrations.migrate(db)
            try await db.client.withConnection { _ in }  // the pool keeps no connection once idle
            try await Task.sleep(for: .milliseconds(500))
            return t
        }
        // Copying a template needs it to have no other connection: retry while the pool lets go.
        for attempt in 0..<40 {
            do {
                try await admin.read { c in try await c.execute("CREATE DATABASE \(name) TEMPLATE \(template)") }
                return name
            } catch let e as PGError where e.sqlState == "55006" && attempt < 39 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        throw Unavailable()
    }

    /// Runs blocking work (psql, process start-up) on a thread of its own, off the cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in Thread { c.resume(returning: body()) }.start() }
    }

    /// A client of a new, empty database, its pool running in the background.
    static func make(name: String, connections: Int = 3, idle: Duration = .seconds(5)) throws -> PGDatabase {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error  // "run() not called yet" when a lease races the pool's start
        var db = try PGDatabase(location(name), password: Secret(password), maximumConnections: connections, idleTimeout: idle, logger: logger)
        db.leaseTimeout = .seconds(180)  // every suite connects at once at the start of a run (SCRAM in a debug build)
        Task { await db.run() }
        return db
    }

    /// A migrated store whose audit key is made as a new vault makes it (sealing stood in for by
    /// the identity: these tests are about the store, not the vault).
    static func store(name: String? = nil, keys: AuditKeyBox = AuditKeyBox(), vault: Vault? = nil) async throws -> PGStore {
        var database = name
        if database == nil { database = try await create() }
        let store = try await PGStore.open(try make(name: database!), auditKey: keys)
        if let vault {
            keys.set(try await store.vaultRecords.auditKey(open: VaultOpener.openAuditKey(vault), create: VaultOpener.makeAuditKey(vault)))
        } else {
            let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
            keys.set(try await store.vaultRecords.auditKey(open: { $0 }, create: { (fresh, fresh) }))
        }
        return store
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func next() -> Int { lock.withLock { n += 1; return n } }
    }

    /// A value made once by the first caller; the others wait for it.
    actor Once<T: Sendable> {
        private var task: Task<T, any Error>?
        func value(_ make: @escaping @Sendable () async throws -> T) async throws -> T {
            if let task { return try await task.value }
            let t = Task { try await make() }
            task = t
            return try await t.value
        }
    }
}
