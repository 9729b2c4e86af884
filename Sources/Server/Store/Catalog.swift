import GRDB
import Shared

/// Lookups the SQLite stores share: accounts named by a reset config, user names, resource types
/// and the policy that governs a resource.
enum Catalog {
    /// An account of `r` named by id or login name (the reset config's loginAccount, rootAccount).
    static func accountRef(_ ref: String, on r: ResourceRecord, _ db: Database) throws -> AccountRecord {
        guard let a = try AccountRecord.filter(Column("resourceId") == r.id && (Column("id") == ref || Column("loginName") == ref)).fetchOne(db)
        else { throw DomainError.invalid("unknown_account", "no account \(ref) on resource \(r.name)") }
        return a
    }

    static func username(_ id: String, _ db: Database) throws -> String {
        try String.fetchOne(db, sql: "SELECT username FROM users WHERE id = ?", arguments: [id]) ?? "(deleted)"
    }

    static func requireType(_ name: String, _ db: Database) throws {
        guard try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE name = ?", arguments: [name]) != nil else {
            throw DomainError.invalid("unknown_resource_type", "no resource type '\(name)'; GET /api/v1/resource-types lists them")
        }
    }

    static func policy(named name: String, _ db: Database) throws -> PasswordPolicy {
        guard let json = try String.fetchOne(db, sql: "SELECT json FROM policies WHERE name = ?", arguments: [name]),
            let p = try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data(json.utf8))
        else { throw DomainError.invalid("unknown_policy", "no password policy '\(name)'") }
        return p
    }

    /// The policy that governs a resource: its own, else its groups' (first by name), else the default.
    static func effectivePolicy(for r: ResourceRecord, _ db: Database) throws -> PasswordPolicy {
        if let name = r.passwordPolicy { return try policy(named: name, db) }
        if let name = try String.fetchOne(db, sql: """
            SELECT g.passwordPolicy FROM groups g JOIN groupResources gr ON gr.groupId = g.id
            WHERE gr.resourceId = ? AND g.passwordPolicy IS NOT NULL ORDER BY g.name LIMIT 1
            """, arguments: [r.id])
        {
            return try policy(named: name, db)
        }
        let fallback = try Settings.get(Settings.defaultPolicy, db) ?? PasswordPolicy.strong.name
        return try policy(named: fallback, db)
    }
}

import Foundation

/// Key/value settings with defaults.
enum Settings {
    static let defaultPolicy = "passwords.defaultPolicy"
    static let requireReason = "passwords.requireReason"
    static let integrityDailyAt = "integrity.dailyAt"
    static let integrityTimeZone = "integrity.timeZone"
    static let integrityLastRunAt = "integrity.lastRunAt"

    static func get(_ key: String, _ db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE key = ?"), arguments: [key])
    }

    static func set(_ key: String, _ value: String, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO settings(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            arguments: [key, value])
    }

    /// Built-in policies and resource types; run at every start, idempotent.
    static func seed(_ db: Database) throws {
        for p in PasswordPolicy.builtIns {
            let json = String(decoding: try JSONEncoder.api.encode(p), as: UTF8.self)
            try db.execute(sql: "INSERT INTO policies(name, builtIn, json) VALUES (?, 1, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json",
                arguments: [p.name, json])
        }
        for (name, plugin) in ResourceTypes.builtIn {
            // A built-in type follows the release (Windows Domain moved from the agent to LDAP).
            try db.execute(sql: """
                INSERT INTO resourceTypes(name, plugin, builtIn) VALUES (?, ?, 1)
                ON CONFLICT(name) DO UPDATE SET plugin = excluded.plugin WHERE resourceTypes.builtIn = 1
                """,
                arguments: [name, plugin])
        }
    }
}

/// The seed's resource types and the reset plugin each uses.
enum ResourceTypes {
    static let builtIn: [(String, String)] = [
        ("Linux", "unix"), ("Solaris", "unix"), ("HP UNIX", "unix"), ("IBM AIX", "unix"), ("Mac OS", "unix"),
        ("VMware ESXi", "unix"), ("Cisco IOS", "network"), ("Cisco CatOS", "network"), ("Cisco PIX", "network"),
        ("HP ProCurve", "network"), ("HP iLO", "network"), ("Juniper Netscreen", "network"), ("Juniper JunOS", "network"),
        ("LDAP Server", "ldap"), ("MySQL Server", "mysql"), ("PostgreSQL Server", "postgresql"), ("Windows", "agent"),
        ("Windows Domain", "ldap"), ("Generic", "none"),
    ]
    static let plugins: Set<String> = ["unix", "network", "ldap", "mysql", "postgresql", "agent", "none"]
}
