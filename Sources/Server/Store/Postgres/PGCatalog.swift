import Foundation
import Shared

/// `Catalog` and `Settings` on PostgreSQL: the lookups the stores share, and the seed.
enum PGCatalog {
    static func accountRef(_ ref: String, on r: ResourceRecord, _ c: PGConnection) async throws -> AccountRecord {
        guard let a = try await c.one(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ? AND (id = ? OR loginName = ?) LIMIT 1",
            [r.id, ref, ref])
        else { throw DomainError.invalid("unknown_account", "no account \(ref) on resource \(r.name)") }
        return a
    }

    /// Names compare as SQLite's NOCASE does: ASCII letters without case, every other byte as is.
    /// The ICU collation the columns use also equates widths and ignores some invisible
    /// characters, so a row found by a name counts only when its name is the same under this rule.
    static func sameName(_ a: String, _ b: String) -> Bool { fold(a) == fold(b) }

    static func fold(_ s: String) -> [UInt8] { s.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 } }

    /// The user of this name, under SQLite's rule.
    static func user(named name: String, _ c: PGConnection) async throws -> UserRecord? {
        try await c.all(UserRecord.self, "SELECT * FROM users WHERE username = ?", [name]).first { sameName($0.username, name) }
    }

    /// The id of the user group of this name, under SQLite's rule.
    static func userGroupID(named name: String, _ c: PGConnection) async throws -> String? {
        try await c.rows("SELECT id, name FROM userGroups WHERE name = ?", [name])
            .first { sameName((try? $0["name", as: String.self]) ?? "", name) }.map { try $0["id", as: String.self] }
    }

    static func username(_ id: String, _ c: PGConnection) async throws -> String {
        try await c.scalar(String.self, "SELECT username FROM users WHERE id = ?", [id]) ?? "(deleted)"
    }

    static func requireType(_ name: String, _ c: PGConnection) async throws {
        guard try await c.scalar(String.self, "SELECT name FROM resourceTypes WHERE name = ?", [name]) != nil else {
            throw DomainError.invalid("unknown_resource_type", "no resource type '\(name)'; GET /api/v1/resource-types lists them")
        }
    }

    static func policy(named name: String, _ c: PGConnection) async throws -> PasswordPolicy {
        guard let json = try await c.scalar(String.self, "SELECT json FROM policies WHERE name = ?", [name]),
            let p = try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data(json.utf8))
        else { throw DomainError.invalid("unknown_policy", "no password policy '\(name)'") }
        return p
    }

    /// The policy that governs a resource: its own, else its groups' (first by name), else the default.
    static func effectivePolicy(for r: ResourceRecord, _ c: PGConnection) async throws -> PasswordPolicy {
        if let name = r.passwordPolicy { return try await policy(named: name, c) }
        if let name = try await c.scalar(String.self, """
            SELECT g.passwordPolicy FROM groups g JOIN groupResources gr ON gr.groupId = g.id
            WHERE gr.resourceId = ? AND g.passwordPolicy IS NOT NULL ORDER BY g.name LIMIT 1
            """, [r.id])
        {
            return try await policy(named: name, c)
        }
        return try await policy(named: try await setting(Settings.defaultPolicy, c) ?? PasswordPolicy.strong.name, c)
    }

    static func setting(_ key: String, _ c: PGConnection) async throws -> String? {
        try await c.scalar(String.self, "SELECT value FROM settings WHERE key = ?", [key])
    }

    static func set(_ key: String, _ value: String, _ c: PGConnection) async throws {
        try await c.execute("INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])
    }

    /// Built-in policies and resource types; run at every start, idempotent (`Settings.seed`).
    static func seed(_ c: PGConnection) async throws {
        for p in PasswordPolicy.builtIns {
            try await c.execute("INSERT INTO policies(name, builtIn, json) VALUES (?, 1, ?) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
                [p.name, String(decoding: try JSONEncoder.api.encode(p), as: UTF8.self)])
        }
        for (name, plugin) in ResourceTypes.builtIn {
            try await c.execute("""
                INSERT INTO resourceTypes(name, plugin, builtIn) VALUES (?, ?, 1)
                ON CONFLICT (name) DO UPDATE SET plugin = excluded.plugin WHERE resourceTypes.builtIn = 1
                """, [name, plugin])
        }
    }
}
