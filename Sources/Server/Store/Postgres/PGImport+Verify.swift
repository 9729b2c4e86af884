import Foundation

/// What `custody store migrate` checks after the copy, on the PostgreSQL side.
struct PGImportReport: Sendable {
    var rows: [String: Int]
    var mismatched: [String]
    var audit: AuditVerifier.Result
    var sealedChecked: Int
    var unreadable: [String]

    var ok: Bool { mismatched.isEmpty && audit.ok && unreadable.isEmpty }
}

extension PGImport {
    /// Every table's rows counted against the source, the audit chain walked under the vault's
    /// audit key, and every sealed value opened with the vault.
    func verify(vault: Vault, auditKey: AuditKeyBox) async throws -> PGImportReport {
        let source = try await sourceCounts()
        let target = try await targetCounts()
        // Built-in policies and types are seeded on both sides; a newer release may seed more.
        let mismatched = Self.tables.filter { t in
            ["policies", "resourceTypes"].contains(t) ? (target[t] ?? 0) < (source[t] ?? 0) : target[t] != source[t]
        }
        let key = try await PGVaultRecords(db: self.target).auditKey(open: VaultOpener.openAuditKey(vault), create: {
            throw Failure(description: "the copied vault has no audit key")
        })
        auditKey.set(key)
        let log = PGAuditLog(keys: auditKey)
        let audit = try await self.target.read { c in try await log.verify(c) }
        let (checked, unreadable) = try await self.target.read { c in
            var unreadable: [String] = []
            var checked = 0
            func check(_ sql: String, _ identity: (PGRow) throws -> String, _ what: (PGRow) throws -> String) async throws {
                for row in try await c.rows(sql) {
                    checked += 1
                    let sealed: Data = try row[1, as: Data.self]
                    do { _ = try vault.open(sealed, identity: try identity(row)) } catch { unreadable.append(try what(row)) }
                }
            }
            try await check("SELECT id, sealed, accountId FROM secrets", { Vault.secretIdentity(secretID: try $0[0], accountID: try $0[2]) },
                { "secret \(try $0[0, as: String.self])" })
            try await check("SELECT id, sealedScript, revision FROM listeners WHERE sealedScript IS NOT NULL",
                { Vault.listenerIdentity(id: try $0[0], revision: try $0[2]) }, { "listener \(try $0[0, as: String.self])" })
            try await check("SELECT id, sealedSecrets FROM listenerRuns", { Vault.listenerRunIdentity(id: try $0[0]) },
                { "listener run \(try $0[0, as: String.self])" })
            try await check("SELECT userId, sealed FROM totp", { IdentityService.totpIdentity(try $0[0]) }, { "second factor of \(try $0[0, as: String.self])" })
            let identities = Dictionary(uniqueKeysWithValues: VaultMetaRecords.sealed)
            try await check("SELECT key, value FROM vaultMeta", { identities[try $0[0, as: String.self]] ?? "" }, { "vault record \(try $0[0, as: String.self])" })
            return (checked, unreadable)
        }
        return PGImportReport(rows: target, mismatched: mismatched, audit: audit, sealedChecked: checked, unreadable: unreadable)
    }
}
