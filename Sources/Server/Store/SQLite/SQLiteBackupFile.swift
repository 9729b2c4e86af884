import Foundation
import GRDB

/// Reads a database file taken out of a backup (never the live one): its counts, and the full
/// check a restore makes before it reports success.
enum SQLiteBackupFile {
    static func counts(_ db: Database) throws -> BackupCounts {
        func count(_ table: String) throws -> Int { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
        return BackupCounts(resources: try count("resources"), accounts: try count("accounts"), secrets: try count("secrets"),
            users: try count("users"), auditRecords: try count("audit"))
    }

    static func counts(path: String) throws -> BackupCounts {
        let q = try DatabaseQueue(path: path, configuration: readOnly())
        defer { try? q.close() }
        return try q.read { try counts($0) }
    }

    static func integrity(path: String) throws -> String {
        let q = try DatabaseQueue(path: path, configuration: readOnly())
        defer { try? q.close() }
        return try q.read { try String.fetchAll($0, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    /// Opens the file as the server would (migrating an older one), then: SQLite's integrity check,
    /// the master key against the canary, every sealed value opened, the audit chain walked.
    static func check(path: String, masterKey: MasterKey) throws -> BackupCheck {
        let store = try Store.open(path: path)
        defer { try? store.db.close() }
        let integrity = try store.db.read { try String.fetchAll($0, sql: "PRAGMA integrity_check").joined(separator: "; ") }
        guard let canary = try store.vaultRecords.canary().sealed else {
            throw BackupError(.verifyFailed, "the backup's vault has no canary; it is not a Custody vault")
        }
        guard VaultOpener.opens(canary, with: masterKey) else {
            throw BackupError(.wrongKey, "the master key given does not open the vault in this backup")
        }
        let vault = Vault(masterKey: masterKey)
        let auditKey = try store.vaultRecords.auditKey(open: VaultOpener.openAuditKey(vault), create: {
            throw BackupError(.verifyFailed, "the backup's vault has no audit key")
        })
        store.auditKey.set(auditKey)
        return try store.db.read { db in
            var unreadable: [String] = []
            var checked = 0
            func check(_ sql: String, _ identity: (Row) -> String, _ what: (Row) -> String) throws {
                let rows = try Row.fetchCursor(db, sql: sql)
                while let row = try rows.next() {
                    checked += 1
                    do { _ = try vault.open(row[0], identity: identity(row)) } catch { unreadable.append(what(row)) }
                }
            }
            try check("SELECT sealed, id, accountId FROM secrets", { Vault.secretIdentity(secretID: $0[1], accountID: $0[2]) }, { "secret \($0[1] as String)" })
            try check("SELECT sealedScript, id, revision FROM listeners WHERE sealedScript IS NOT NULL",
                { Vault.listenerIdentity(id: $0[1], revision: $0[2]) }, { "listener \($0[1] as String)" })
            try check("SELECT sealedSecrets, id FROM listenerRuns", { Vault.listenerRunIdentity(id: $0[1]) }, { "listener run \($0[1] as String)" })
            try check("SELECT sealed, userId FROM totp", { IdentityService.totpIdentity($0[1]) }, { "second factor of \($0[1] as String)" })
            let identities = Dictionary(uniqueKeysWithValues: VaultMetaRecords.sealed)
            try check("SELECT value, key FROM vaultMeta WHERE key IN (\(identities.keys.map { "'\($0)'" }.joined(separator: ",")))",
                { identities[$0[1] as String] ?? "" }, { "vault record \($0[1] as String)" })
            return BackupCheck(counts: try counts(db), sealedChecked: checked, unreadable: unreadable, audit: try AuditVerifier.verify(db),
                integrity: integrity)
        }
    }

    static func readOnly() -> Configuration {
        var c = Configuration()
        c.readonly = true
        return c
    }
}
