import Foundation
import GRDB
import Logging

/// Opens the vault at start-up: creates the key for a new vault, refuses a missing or exposed
/// key for an existing one, and finishes a key rotation that was interrupted after its commit.
enum VaultOpener {
    static func open(store: Store, keyPath: String, logger: Logger) throws -> Vault {
        let canary = try store.db.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = 'canary'")
        }
        guard let canary else {
            // A new vault: make the key (or adopt one the admin placed) and seal the canary.
            let key: MasterKey
            if FileManager.default.fileExists(atPath: keyPath) {
                key = try MasterKey.load(path: keyPath)
            } else {
                key = MasterKey.generate()
                try key.write(to: keyPath)
                logger.notice("created master key", metadata: ["path": "\(keyPath)"])
            }
            let vault = Vault(masterKey: key)
            let sealed = try vault.seal(Vault.canaryText, identity: Vault.canaryIdentity)
            try store.db.write { db in
                try db.execute(sql: "INSERT INTO vaultMeta(key, value) VALUES ('canary', ?)", arguments: [sealed])
            }
            return vault
        }
        let pendingPath = keyPath + ".new"
        let key: MasterKey
        if FileManager.default.fileExists(atPath: keyPath) {
            key = try MasterKey.load(path: keyPath)
        } else if FileManager.default.fileExists(atPath: pendingPath) {
            // Only the new key survived a rotation: it must open the vault, then it becomes the key.
            let next = try MasterKey.load(path: pendingPath)
            guard opens(canary, with: next), rename(pendingPath, keyPath) == 0 else {
                throw VaultError(.keyMissing, "master key file \(keyPath) is missing and \(pendingPath) does not open the vault")
            }
            logger.notice("finished an interrupted key rotation")
            return Vault(masterKey: next)
        } else {
            throw VaultError(.keyMissing,
                "this data directory holds an existing vault but its master key file \(keyPath) is missing; restore it from your backup (a new key cannot open the vault)")
        }
        if opens(canary, with: key) {
            if FileManager.default.fileExists(atPath: pendingPath) {
                // A rotation stopped before it committed; the new key was never used.
                try? FileManager.default.removeItem(atPath: pendingPath)
                logger.notice("removed the unused key of an interrupted key rotation")
            }
            return Vault(masterKey: key)
        }
        if FileManager.default.fileExists(atPath: pendingPath) {
            let next = try MasterKey.load(path: pendingPath)
            if opens(canary, with: next) {
                guard rename(pendingPath, keyPath) == 0 else {
                    throw VaultError(.rotationFailed, "cannot move \(pendingPath) to \(keyPath) to finish the key rotation")
                }
                logger.notice("finished an interrupted key rotation")
                return Vault(masterKey: next)
            }
        }
        throw VaultError(.wrongKey, "the master key in \(keyPath) does not open this vault")
    }

    static func opens(_ canary: Data, with key: MasterKey) -> Bool {
        (try? Vault(masterKey: key).open(canary, identity: Vault.canaryIdentity)) == Vault.canaryText
    }
}
