import Foundation
import GRDB

/// `custody key rotate`: re-encrypts every sealed value under a new key.
/// 1. The new key is written and fsync'd as `KEY.new`.
/// 2. One transaction re-encrypts everything, made durable (synchronous FULL, WAL checkpoint).
/// 3. The old key is kept as `KEY.old`, then `KEY.new` replaces `KEY` by an atomic rename.
/// `VaultOpener` picks whichever of the three opens the vault and removes the rest.
struct KeyRotation {
    enum Step: Sendable { case newKeyWritten, midReencrypt, committed, renamed }

    let store: Store
    let keyPath: String
    /// Test hook: throws at a step to simulate a crash there.
    var failAt: Step? = nil

    struct Injected: Error {}

    func run(current: Vault) throws -> (rotated: Int, vault: Vault) {
        let pendingPath = keyPath + ".new"
        let oldPath = keyPath + ".old"
        for leftover in [pendingPath, oldPath] where FileManager.default.fileExists(atPath: leftover) {
            try FileManager.default.removeItem(atPath: leftover)
        }
        let next = MasterKey.generate()
        try next.write(to: pendingPath)
        if failAt == .newKeyWritten { throw Injected() }
        let newVault = Vault(masterKey: next)
        let failMid = failAt == .midReencrypt
        let count = try store.db.writeWithoutTransaction { db -> Int in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            defer { try? db.execute(sql: "PRAGMA synchronous = NORMAL") }
            var n = 0
            try db.inTransaction {
                let rows = try Row.fetchAll(db, sql: "SELECT id, accountId, sealed FROM secrets")
                for row in rows {
                    let identity = Vault.secretIdentity(secretID: row["id"], accountID: row["accountId"])
                    let sealed = try newVault.seal(try current.open(row["sealed"], identity: identity), identity: identity)
                    try db.execute(sql: "UPDATE secrets SET sealed = ? WHERE id = ?", arguments: [sealed, row["id"]])
                    n += 1
                    if failMid && n == max(1, rows.count / 2) { throw Injected() }
                }
                for row in try Row.fetchAll(db, sql: "SELECT id, revision, sealedScript FROM listeners WHERE sealedScript IS NOT NULL") {
                    let identity = Vault.listenerIdentity(id: row["id"], revision: row["revision"])
                    let sealed = try newVault.seal(try current.open(row["sealedScript"], identity: identity), identity: identity)
                    try db.execute(sql: "UPDATE listeners SET sealedScript = ? WHERE id = ?", arguments: [sealed, row["id"]])
                }
                for row in try Row.fetchAll(db, sql: "SELECT id, sealedSecrets FROM listenerRuns") {
                    let identity = Vault.listenerRunIdentity(id: row["id"])
                    let sealed = try newVault.seal(try current.open(row["sealedSecrets"], identity: identity), identity: identity)
                    try db.execute(sql: "UPDATE listenerRuns SET sealedSecrets = ? WHERE id = ?", arguments: [sealed, row["id"]])
                }
                for row in try Row.fetchAll(db, sql: "SELECT userId, sealed FROM totp") {
                    let identity = IdentityService.totpIdentity(row["userId"])
                    let sealed = try newVault.seal(try current.open(row["sealed"], identity: identity), identity: identity)
                    try db.execute(sql: "UPDATE totp SET sealed = ? WHERE userId = ?", arguments: [sealed, row["userId"]])
                }
                for (key, identity) in [("canary", Vault.canaryIdentity), ("auditKey", VaultOpener.auditKeyIdentity),
                    (NotificationChannels.passwordKey, NotificationChannels.passwordIdentity)] {
                    guard let old = try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = ?", arguments: [key]) else { continue }
                    let sealed = try newVault.seal(try current.open(old, identity: identity), identity: identity)
                    try db.execute(sql: "UPDATE vaultMeta SET value = ? WHERE key = ?", arguments: [sealed, key])
                }
                return .commit
            }
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            return n
        }
        if failAt == .committed { throw Injected() }
        guard link(keyPath, oldPath) == 0 || FileManager.default.fileExists(atPath: oldPath) else {
            throw VaultError(.rotationFailed, "cannot keep the old key as \(oldPath)")
        }
        guard rename(pendingPath, keyPath) == 0 else {
            throw VaultError(.rotationFailed, "re-encrypted, but cannot move \(pendingPath) to \(keyPath); the server will finish this at start")
        }
        MasterKey.syncDirectory(of: keyPath)
        if failAt == .renamed { throw Injected() }
        try FileManager.default.removeItem(atPath: oldPath)
        MasterKey.syncDirectory(of: keyPath)
        return (count, newVault)
    }
}
