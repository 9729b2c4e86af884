import Foundation

/// The vault's own records on PostgreSQL (`VaultStore`'s audit key, asynchronously). Two nodes
/// starting together on a new database make one audit key: the writer lock orders them, and the
/// second opens the key the first stored.
struct PGVaultRecords: Sendable {
    let db: PGDatabase

    func auditKey(open: @Sendable (Data) throws -> Data, create: @Sendable () throws -> (sealed: Data, key: Data)) async throws -> Data {
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
}
