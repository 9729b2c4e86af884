import Foundation
import GRDB
import Shared

/// `PolicyStore` on SQLite: tables `policies` (JSON), `resourceTypes` and `settings`.
struct SQLitePolicyStore: PolicyStore {
    let db: DatabasePool

    func policies() async throws -> [PasswordPolicy] {
        try await db.read { db in
            try String.fetchAll(db, sql: "SELECT json FROM policies ORDER BY builtIn DESC, name").compactMap {
                try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data($0.utf8))
            }
        }
    }

    func savePolicy(_ policy: PasswordPolicy, audit: AuditEvent) async throws {
        let json = String(decoding: try JSONEncoder.api.encode(policy), as: UTF8.self)
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT builtIn FROM policies WHERE name = ?", arguments: [policy.name]) == true {
                throw StoreError(code: .conflict, message: "built-in policy \(policy.name) cannot be changed")
            }
            try db.execute(sql: "INSERT INTO policies(name, builtIn, json) VALUES (?, 0, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json",
                arguments: [policy.name, json])
            try AuditLog.append(audit, in: db)
        }
    }

    func resourceTypes() async throws -> [ResourceTypeEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT name, plugin, builtIn FROM resourceTypes ORDER BY builtIn DESC, name").map {
                ResourceTypeEntry(name: $0["name"], plugin: $0["plugin"], builtIn: $0["builtIn"])
            }
        }
    }

    func addResourceType(name: String, plugin: String, customListener: String?, check: @Sendable () throws -> Void, audit: AuditEvent)
        async throws
    {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM resourceTypes WHERE name = ?)", arguments: [name]) == true {
                throw StoreError(code: .conflict, message: "resource type \(name) exists")
            }
            try check()
            if let customListener,
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM listeners WHERE name = ? AND kind = 'custom')", arguments: [customListener]) != true
            {
                throw StoreError(code: .notFound, message: "no custom listener named '\(customListener)'")
            }
            try db.execute(sql: "INSERT INTO resourceTypes(name, plugin, builtIn) VALUES (?, ?, 0)", arguments: [name, plugin])
            try AuditLog.append(audit, in: db)
        }
    }

    func passwordSettings() async throws -> PasswordSettings {
        try await db.read { db in
            PasswordSettings(requireReason: try Settings.get(Settings.requireReason, db) == "true",
                defaultPolicy: try Settings.get(Settings.defaultPolicy, db) ?? PasswordPolicy.strong.name)
        }
    }

    func setPasswordSettings(requireReason: Bool?, defaultPolicy: String?, audit: AuditEvent) async throws {
        try await db.write { db in
            if let name = defaultPolicy {
                try Self.requirePolicy(name, db)
                try Settings.set(Settings.defaultPolicy, name, db)
            }
            if let r = requireReason { try Settings.set(Settings.requireReason, r ? "true" : "false", db) }
            try AuditLog.append(audit, in: db)
        }
    }

    /// A policy that exists and reads back whole; else `StoreError.notFound`.
    static func requirePolicy(_ name: String, _ db: Database) throws {
        do { _ = try Catalog.policy(named: name, db) } catch is DomainError {
            throw StoreError(code: .notFound, message: "no password policy '\(name)'")
        }
    }
}
