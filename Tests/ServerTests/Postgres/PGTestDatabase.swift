import Foundation
import Logging
import Shared
import TestSupport

@testable import Server

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

    private static let roleMade: Bool = {
        guard PostgresServer.available else { return false }
        return PostgresServer.root("CREATE ROLE \(role) LOGIN PASSWORD '\(password)';")
    }()

    static func location(_ name: String) -> PostgresLocation {
        PostgresLocation(host: "127.0.0.1", port: PostgresServer.port, user: role, database: name, sslMode: .verifyFull, caFile: PostgresServer.caFile)
    }

    /// A new database's name, created empty.
    static func create() throws -> String {
        guard roleMade else { throw Unavailable() }
        let name = "custody_\(getpid())_\(counter.next())"
        guard PostgresServer.root("CREATE DATABASE \(name) OWNER \(role);") else { throw Unavailable() }
        return name
    }

    /// A client of a new, empty database, its pool running in the background.
    static func make(name: String? = nil, connections: Int = 4) throws -> PGDatabase {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error  // "run() not called yet" when a lease races the pool's start
        let db = try PGDatabase(location(try name ?? create()), password: Secret(password), maximumConnections: connections, logger: logger)
        Task { await db.run() }
        return db
    }

    /// A migrated store whose audit key is made as a new vault makes it (sealing stood in for by
    /// the identity: these tests are about the store, not the vault).
    static func store(name: String? = nil, keys: AuditKeyBox = AuditKeyBox()) async throws -> PGStore {
        let store = try await PGStore.open(try make(name: name), auditKey: keys)
        let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255) })
        keys.set(try await store.vaultRecords.auditKey(open: { $0 }, create: { (fresh, fresh) }))
        return store
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func next() -> Int { lock.withLock { n += 1; return n } }
    }
}
