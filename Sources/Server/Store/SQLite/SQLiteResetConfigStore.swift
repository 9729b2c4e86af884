import Foundation
import GRDB

/// `ResetConfigStore` on SQLite: table `resetConfigs`, the config as its API JSON.
struct SQLiteResetConfigStore: ResetConfigStore {
    let db: DatabasePool

    func config(of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> StoredResetConfig {
        try await db.read { db in
            guard let r = try ResourceRecord.fetchOne(db, key: resourceID), let have = try Access.onResource(r, p, db) else { return .notVisible }
            try authorize(have)
            return .found(try ResetConfig.stored(for: r.id, db))
        }
    }

    func save(for resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        decide: @Sendable (ResetConfig?) throws -> ResetConfig, audit: @Sendable (ResourceRecord, ResetConfig) -> AuditEvent) async throws
        -> ResetConfig?
    {
        try await db.write { db in
            guard let r = try ResourceRecord.fetchOne(db, key: resourceID), let have = try Access.onResource(r, p, db) else { return nil }
            try authorize(have)
            let config = try decide(try ResetConfig.stored(for: r.id, db))
            for ref in [config.loginAccount, config.rootAccount, config.enableAccount].compactMap({ $0 }) {
                _ = try Catalog.accountRef(ref, on: r, db)
            }
            let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
            try db.execute(sql: "INSERT INTO resetConfigs(resourceId, json) VALUES (?, ?) ON CONFLICT(resourceId) DO UPDATE SET json = excluded.json",
                arguments: [r.id, json])
            try AuditLog.append(audit(r, config), in: db)
            return config
        }
    }
}
