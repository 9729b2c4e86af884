import Foundation

/// `RotationStore` on PostgreSQL: table `rotations` (the config as JSON).
struct PGRotationStore: RotationStore {
    let db: PGDatabase
    let log: PGAuditLog

    func rotation(of groupID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationLookup {
        try await db.read { c in
            guard let g = try await Self.group(groupID, c), let have = try await PGAccess.onGroup(g, p, c) else { return .notVisible }
            try authorize(have)
            return .found(g, try await Self.saved(g.id, c))
        }
    }

    func save(_ config: RotationConfig, for groupID: String, at: Date, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> SavedRotation?
    {
        let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
        return try await db.write { c in
            guard let g = try await Self.group(groupID, c), let have = try await PGAccess.onGroup(g, p, c) else { return nil }
            try authorize(have)
            try await c.execute("""
                INSERT INTO rotations(groupId, json, savedAt, savedBy) VALUES (?, ?, ?, ?)
                ON CONFLICT (groupId) DO UPDATE SET json = excluded.json, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                """, [g.id, json, at, p.username])
            try await log.append(audit(g), c)
            return try await Self.saved(g.id, c)
        }
    }

    func delete(for groupID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            guard let g = try await Self.group(groupID, c), let have = try await PGAccess.onGroup(g, p, c) else { return false }
            try authorize(have)
            try await c.execute("DELETE FROM rotations WHERE groupId = ?", [g.id])
            try await log.append(audit(g), c)
            return true
        }
    }

    static func group(_ id: String, _ c: PGConnection) async throws -> GroupRecord? {
        try await c.one(GroupRecord.self, "SELECT * FROM groups WHERE id = ?", [id])
    }

    /// The group's schedule; one whose JSON no longer reads is none.
    static func saved(_ groupID: String, _ c: PGConnection) async throws -> SavedRotation? {
        guard let row = try await c.row("SELECT * FROM rotations WHERE groupId = ?", [groupID]),
            let config = try? JSONDecoder.api.decode(RotationConfig.self, from: Data(try row["json", as: String.self].utf8))
        else { return nil }
        return SavedRotation(groupId: groupID, config: config, savedAt: try row["savedAt"], lastRunAt: try row["lastRunAt"])
    }
}
