import Foundation
import GRDB

/// The one narrow interface over persistence. SQLite (WAL) through GRDB today; every query
/// lives in a `Store+Feature.swift` extension so a second backend replaces this type only.
struct Store: Sendable {
    let db: DatabasePool

    static func open(path: String) throws -> Store {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try Migrations.migrator.migrate(pool)
        return Store(db: pool)
    }

    func read<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await db.read(body)
    }

    func write<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await db.write(body)
    }
}

/// Text ids: random UUIDs, lowercase.
func newID() -> String { UUID().uuidString.lowercased() }

extension Date {
    var seconds: Double { timeIntervalSince1970 }
}
