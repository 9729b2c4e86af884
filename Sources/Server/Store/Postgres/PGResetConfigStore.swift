import Foundation

/// `ResetConfigStore` on PostgreSQL: table `resetConfigs`, the config as its API JSON.
struct PGResetConfigStore: ResetConfigStore {
    let db: PGDatabase
    let log: PGAuditLog

    func config(of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> StoredResetConfig {
        try await db.read { c in
            guard let r = try await PGQueries.resource(resourceID, c), let have = try await PGAccess.onResource(r, p, c) else { return .notVisible }
            try authorize(have)
            return .found(try await PGQueries.resetConfig(for: r.id, c))
        }
    }

    func save(for resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        decide: @Sendable (ResetConfig?) throws -> ResetConfig, audit: @Sendable (ResourceRecord, ResetConfig) -> AuditEvent) async throws
        -> ResetConfig?
    {
        try await db.write { c in
            guard let r = try await PGQueries.resource(resourceID, c), let have = try await PGAccess.onResource(r, p, c) else { return nil }
            try authorize(have)
            let config = try decide(try await PGQueries.resetConfig(for: r.id, c))
            for ref in [config.loginAccount, config.rootAccount, config.enableAccount].compactMap({ $0 }) {
                _ = try await PGCatalog.accountRef(ref, on: r, c)
            }
            let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
            try await c.execute("INSERT INTO resetConfigs(resourceId, json) VALUES (?, ?) ON CONFLICT (resourceId) DO UPDATE SET json = excluded.json",
                [r.id, json])
            try await log.append(audit(r, config), c)
            return config
        }
    }
}
