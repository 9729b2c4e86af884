import Foundation
import GRDB

/// `RotationStore` on SQLite: table `rotations` (the config as JSON, times as REAL seconds).
struct SQLiteRotationStore: RotationStore {
    let db: DatabasePool

    func rotation(of groupID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationLookup {
        try await db.read { db in
            guard let g = try GroupRecord.fetchOne(db, key: groupID), let have = try Access.onGroup(g, p, db) else { return .notVisible }
            try authorize(have)
            return .found(g, try Self.saved(g.id, db))
        }
    }

    func save(_ config: RotationConfig, for groupID: String, at: Date, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> SavedRotation?
    {
        let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
        return try await db.write { db in
            guard let g = try GroupRecord.fetchOne(db, key: groupID), let have = try Access.onGroup(g, p, db) else { return nil }
            try authorize(have)
            try db.execute(sql: """
                INSERT INTO rotations(groupId, json, savedAt, savedBy) VALUES (?, ?, ?, ?)
                ON CONFLICT(groupId) DO UPDATE SET json = excluded.json, savedAt = excluded.savedAt, savedBy = excluded.savedBy
                """, arguments: [g.id, json, at.seconds, p.username])
            try AuditLog.append(audit(g), in: db)
            return try Self.saved(g.id, db)
        }
    }

    func delete(for groupID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            guard let g = try GroupRecord.fetchOne(db, key: groupID), let have = try Access.onGroup(g, p, db) else { return false }
            try authorize(have)
            try db.execute(sql: "DELETE FROM rotations WHERE groupId = ?", arguments: [g.id])
            try AuditLog.append(audit(g), in: db)
            return true
        }
    }

    /// The group's schedule; one whose JSON no longer reads is none.
    static func saved(_ groupID: String, _ db: Database) throws -> SavedRotation? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM rotations WHERE groupId = ?", arguments: [groupID]),
            let config = try? JSONDecoder.api.decode(RotationConfig.self, from: Data((row["json"] as String).utf8))
        else { return nil }
        return SavedRotation(groupId: groupID, config: config, savedAt: Date(timeIntervalSince1970: row["savedAt"]),
            lastRunAt: (row["lastRunAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}
