import Foundation

/// Lookups about tasks, agents and reset configurations the PostgreSQL stores share.
enum PGQueries {
    static func resetUnderWay(_ accountID: String, _ c: PGConnection) async throws -> Bool {
        try await c.scalar(Int.self, "SELECT 1 FROM tasks WHERE accountId = ? AND kind = 'reset' AND state IN ('queued', 'running', 'unknown') LIMIT 1",
            [accountID]) != nil
    }

    static func verifyUnderWay(_ accountID: String, _ c: PGConnection) async throws -> Bool {
        try await c.scalar(Int.self, "SELECT 1 FROM tasks WHERE accountId = ? AND kind = 'verify' AND state IN ('queued', 'running') LIMIT 1",
            [accountID]) != nil
    }

    /// The unrevoked agent bound to the resource.
    static func boundAgent(_ resourceID: String, _ c: PGConnection) async throws -> String? {
        try await c.scalar(String.self, """
            SELECT a.id FROM agentBindings b JOIN agents a ON a.id = b.agentId WHERE b.resourceId = ? AND a.revokedAt IS NULL
            """, [resourceID])
    }

    /// The resource's stored reset config, if any (its API JSON).
    static func resetConfig(for resourceID: String, _ c: PGConnection) async throws -> ResetConfig? {
        ResetConfig.decode(try await c.scalar(String.self, "SELECT json FROM resetConfigs WHERE resourceId = ?", [resourceID]))
    }

    static func resource(_ id: String, _ c: PGConnection) async throws -> ResourceRecord? {
        try await c.one(ResourceRecord.self, "SELECT * FROM resources WHERE id = ?", [id])
    }

    static func account(_ id: String, _ c: PGConnection) async throws -> AccountRecord? {
        try await c.one(AccountRecord.self, "SELECT * FROM accounts WHERE id = ?", [id])
    }
}
