import Foundation

/// The vault's own records on PostgreSQL (`VaultStore`'s audit key, asynchronously). Two nodes
/// starting together on a new database make one audit key: the writer lock orders them, and the
/// second opens the key the first stored.
struct PGVaultRecords: VaultRecords {
    let db: PGDatabase

    func canary() async throws -> (sealed: Data?, passwords: Int) {
        try await db.read { c in
            (try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = 'canary'"),
                try await c.scalar(Int.self, "SELECT COUNT(*) FROM secrets") ?? 0)
        }
    }

    func setCanary(_ sealed: Data) async throws {
        try await db.write { c in
            try await c.execute("INSERT INTO vaultMeta(key, value) VALUES ('canary', ?) ON CONFLICT (key) DO NOTHING", [sealed])
        }
    }

    func auditKey(open: @escaping @Sendable (Data) throws -> Data, create: @escaping @Sendable () throws -> (sealed: Data, key: Data)) async throws
        -> Data
    {
        try await db.write { c in
            if let sealed = try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = 'auditKey'") { return try open(sealed) }
            let (sealed, key) = try create()
            try await c.execute("INSERT INTO vaultMeta(key, value) VALUES ('auditKey', ?)", [sealed])
            // A new trail starts at the genesis head, so a missing head always means a rewritten one.
            if try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit") == 0 {
                try await c.execute("INSERT INTO settings(key, value) VALUES ('audit.head', ?)",
                    [AuditHead.value(id: 0, hash: AuditEntry.genesis, key: key)])
            }
            return key
        }
    }

    /// Re-seals every sealed value in one transaction (key rotation, every node stopped).
    func resealAll(_ reseal: @escaping @Sendable (Data, String) throws -> Data) async throws -> Int {
        try await db.write { c in
            var n = 0
            for row in try await c.rows("SELECT id, accountId, sealed FROM secrets") {
                let (id, account): (String, String) = (try row["id"], try row["accountId"])
                try await c.execute("UPDATE secrets SET sealed = ? WHERE id = ?",
                    [try reseal(try row["sealed"], Vault.secretIdentity(secretID: id, accountID: account)), id])
                n += 1
            }
            for row in try await c.rows("SELECT id, revision, sealedScript FROM listeners WHERE sealedScript IS NOT NULL") {
                let id: String = try row["id"]
                try await c.execute("UPDATE listeners SET sealedScript = ? WHERE id = ?",
                    [try reseal(try row["sealedScript"], Vault.listenerIdentity(id: id, revision: try row["revision"])), id])
            }
            for row in try await c.rows("SELECT id, sealedSecrets FROM listenerRuns") {
                let id: String = try row["id"]
                try await c.execute("UPDATE listenerRuns SET sealedSecrets = ? WHERE id = ?",
                    [try reseal(try row["sealedSecrets"], Vault.listenerRunIdentity(id: id)), id])
            }
            for row in try await c.rows("SELECT userId, sealed FROM totp") {
                let id: String = try row["userId"]
                try await c.execute("UPDATE totp SET sealed = ? WHERE userId = ?", [try reseal(try row["sealed"], IdentityService.totpIdentity(id)), id])
            }
            for (key, identity) in VaultMetaRecords.sealed {
                guard let old = try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = ?", [key]) else { continue }
                try await c.execute("UPDATE vaultMeta SET value = ? WHERE key = ?", [try reseal(old, identity), key])
            }
            return n
        }
    }

    /// Nodes that renewed their hold on tasks since `since` (a key rotation waits for none).
    func liveNodes(since: Date) async throws -> [String] {
        try await db.read { c in try await c.column(String.self, "SELECT id FROM nodes WHERE heartbeatAt >= ? ORDER BY id", [since]) }
    }
}
