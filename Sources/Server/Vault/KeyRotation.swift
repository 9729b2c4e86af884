import Foundation
import GRDB

/// `custody key rotate`: re-encrypts every sealed value under a new key. The new key is
/// written (fsync'd) before the one transaction that re-encrypts; the key file is replaced
/// by an atomic rename after it commits, and `VaultOpener` finishes that rename if it was cut.
struct KeyRotation {
    enum Step: Sendable { case newKeyWritten, midReencrypt, committed }

    let store: Store
    let keyPath: String
    /// Test hook: throws at a step to simulate a crash there.
    var failAt: Step? = nil

    struct Injected: Error {}

    func run(current: Vault) throws -> (rotated: Int, vault: Vault) {
        let pendingPath = keyPath + ".new"
        if FileManager.default.fileExists(atPath: pendingPath) {
            try FileManager.default.removeItem(atPath: pendingPath)
        }
        let next = MasterKey.generate()
        try next.write(to: pendingPath)
        if failAt == .newKeyWritten { throw Injected() }
        let newVault = Vault(masterKey: next)
        let failMid = failAt == .midReencrypt
        let count = try store.db.write { db -> Int in
            let rows = try Row.fetchAll(db, sql: "SELECT id, accountId, sealed FROM secrets")
            var n = 0
            for row in rows {
                let identity = Vault.secretIdentity(secretID: row["id"], accountID: row["accountId"])
                let plain = try current.open(row["sealed"], identity: identity)
                let sealed = try newVault.seal(plain, identity: identity)
                try db.execute(sql: "UPDATE secrets SET sealed = ? WHERE id = ?", arguments: [sealed, row["id"]])
                n += 1
                if failMid && n == max(1, rows.count / 2) { throw Injected() }
            }
            let canary = try newVault.seal(Vault.canaryText, identity: Vault.canaryIdentity)
            try db.execute(sql: "UPDATE vaultMeta SET value = ? WHERE key = 'canary'", arguments: [canary])
            return n
        }
        if failAt == .committed { throw Injected() }
        guard rename(pendingPath, keyPath) == 0 else {
            throw VaultError(.rotationFailed, "re-encrypted, but cannot move \(pendingPath) to \(keyPath); the server will finish this at start")
        }
        return (count, newVault)
    }
}
