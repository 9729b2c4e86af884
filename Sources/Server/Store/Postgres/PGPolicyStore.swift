import Foundation
import Shared

/// `PolicyStore` on PostgreSQL: tables `policies` (JSON), `resourceTypes` and `settings`.
struct PGPolicyStore: PolicyStore {
    let db: PGDatabase
    let log: PGAuditLog

    func policies() async throws -> [PasswordPolicy] {
        try await db.read { c in
            try await c.column(String.self, "SELECT json FROM policies ORDER BY builtIn DESC, name").compactMap {
                try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data($0.utf8))
            }
        }
    }

    func savePolicy(_ policy: PasswordPolicy, audit: AuditEvent) async throws {
        let json = String(decoding: try JSONEncoder.api.encode(policy), as: UTF8.self)
        try await db.write { c in
            if try await c.scalar(Bool.self, "SELECT builtIn FROM policies WHERE name = ?", [policy.name]) == true {
                throw StoreError(code: .conflict, message: "built-in policy \(policy.name) cannot be changed")
            }
            try await c.execute("INSERT INTO policies(name, builtIn, json) VALUES (?, 0, ?) ON CONFLICT (name) DO UPDATE SET json = excluded.json",
                [policy.name, json])
            try await log.append(audit, c)
        }
    }

    func resourceTypes() async throws -> [ResourceTypeEntry] {
        try await db.read { c in
            try await c.rows("SELECT name, plugin, builtIn FROM resourceTypes ORDER BY builtIn DESC, name").map {
                ResourceTypeEntry(name: try $0["name"], plugin: try $0["plugin"], builtIn: try $0["builtIn"])
            }
        }
    }

    func addResourceType(name: String, plugin: String, customListener: String?, check: @Sendable () throws -> Void, audit: AuditEvent)
        async throws
    {
        try await db.write { c in
            if try await c.scalar(Int.self, "SELECT 1 FROM resourceTypes WHERE name = ?", [name]) != nil {
                throw StoreError(code: .conflict, message: "resource type \(name) exists")
            }
            try check()
            if let customListener,
                try await c.scalar(Int.self, "SELECT 1 FROM listeners WHERE name = ? AND kind = 'custom'", [customListener]) == nil
            {
                throw StoreError(code: .notFound, message: "no custom listener named '\(customListener)'")
            }
            try await c.execute("INSERT INTO resourceTypes(name, plugin, builtIn) VALUES (?, ?, 0)", [name, plugin])
            try await log.append(audit, c)
        }
    }

    func passwordSettings() async throws -> PasswordSettings {
        try await db.read { c in
            PasswordSettings(requireReason: try await PGCatalog.setting(Settings.requireReason, c) == "true",
                defaultPolicy: try await PGCatalog.setting(Settings.defaultPolicy, c) ?? PasswordPolicy.strong.name)
        }
    }

    func setPasswordSettings(requireReason: Bool?, defaultPolicy: String?, audit: AuditEvent) async throws {
        try await db.write { c in
            if let name = defaultPolicy {
                try await Self.requirePolicy(name, c)
                try await PGCatalog.set(Settings.defaultPolicy, name, c)
            }
            if let r = requireReason { try await PGCatalog.set(Settings.requireReason, r ? "true" : "false", c) }
            try await log.append(audit, c)
        }
    }

    /// A policy that exists and reads back whole; else `StoreError.notFound`.
    static func requirePolicy(_ name: String, _ c: PGConnection) async throws {
        do { _ = try await PGCatalog.policy(named: name, c) } catch is DomainError {
            throw StoreError(code: .notFound, message: "no password policy '\(name)'")
        }
    }
}
