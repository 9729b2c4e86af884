import Foundation
import GRDB

/// `VaultStore` on SQLite: `vaultMeta` (canary, audit key, SMTP password) and the sealed columns.
struct SQLiteVaultStore: VaultStore {
    let db: DatabasePool

    func canary() throws -> (sealed: Data?, passwords: Int) {
        try db.read { db in
            (try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = 'canary'"), try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets") ?? 0)
        }
    }

    func setCanary(_ sealed: Data) throws {
        try db.write { db in try db.execute(sql: "INSERT INTO vaultMeta(key, value) VALUES ('canary', ?)", arguments: [sealed]) }
    }

    func auditKey(open: (Data) throws -> Data, create: () throws -> (sealed: Data, key: Data)) throws -> Data {
        try db.write { db -> Data in
            if let sealed = try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = 'auditKey'") { return try open(sealed) }
            let (sealed, key) = try create()
            try db.execute(sql: "INSERT INTO vaultMeta(key, value) VALUES ('auditKey', ?)", arguments: [sealed])
            // A new trail starts at the genesis head, so a missing head always means a rewritten one.
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") == 0 {
                try AuditHead.write(id: 0, hash: AuditEntry.genesis, key: key, db)
            }
            return key
        }
    }

    func resealAll(_ reseal: (Data, String) throws -> Data, progress: (Int, Int) throws -> Void) throws -> Int {
        try db.writeWithoutTransaction { db -> Int in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var n = 0
            try db.inTransaction {
                let rows = try Row.fetchAll(db, sql: "SELECT id, accountId, sealed FROM secrets")
                for row in rows {
                    let sealed = try reseal(row["sealed"], Vault.secretIdentity(secretID: row["id"], accountID: row["accountId"]))
                    try db.execute(sql: "UPDATE secrets SET sealed = ? WHERE id = ?", arguments: [sealed, row["id"]])
                    n += 1
                    try progress(n, rows.count)
                }
                for row in try Row.fetchAll(db, sql: "SELECT id, revision, sealedScript FROM listeners WHERE sealedScript IS NOT NULL") {
                    let sealed = try reseal(row["sealedScript"], Vault.listenerIdentity(id: row["id"], revision: row["revision"]))
                    try db.execute(sql: "UPDATE listeners SET sealedScript = ? WHERE id = ?", arguments: [sealed, row["id"]])
                }
                for row in try Row.fetchAll(db, sql: "SELECT id, sealedSecrets FROM listenerRuns") {
                    let sealed = try reseal(row["sealedSecrets"], Vault.listenerRunIdentity(id: row["id"]))
                    try db.execute(sql: "UPDATE listenerRuns SET sealedSecrets = ? WHERE id = ?", arguments: [sealed, row["id"]])
                }
                for row in try Row.fetchAll(db, sql: "SELECT userId, sealed FROM totp") {
                    let sealed = try reseal(row["sealed"], IdentityService.totpIdentity(row["userId"]))
                    try db.execute(sql: "UPDATE totp SET sealed = ? WHERE userId = ?", arguments: [sealed, row["userId"]])
                }
                for (key, identity) in VaultMetaRecords.sealed {
                    guard let old = try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = ?", arguments: [key]) else { continue }
                    try db.execute(sql: "UPDATE vaultMeta SET value = ? WHERE key = ?", arguments: [try reseal(old, identity), key])
                }
                return .commit
            }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return n
        }
    }
}
