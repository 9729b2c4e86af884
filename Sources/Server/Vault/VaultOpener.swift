import Foundation
import Logging

/// Opens the vault at start-up. A new vault gets its key; an existing one needs a key that opens
/// its canary. Leftovers of an interrupted rotation (`.new`, `.old`) are tried too, and the one
/// that opens the vault becomes the key file; the others are removed.
enum VaultOpener {
    static let auditKeyIdentity = "custody.audit.key.v1"

    static func open(store: Store, keyPath: String, logger: Logger) throws -> Vault {
        let vault = try openKey(store: store, keyPath: keyPath, logger: logger)
        try loadAuditKey(store: store, vault: vault)
        return vault
    }

    private static func openKey(store: Store, keyPath: String, logger: Logger) throws -> Vault {
        let (canary, secrets) = try store.vaultRecords.canary()
        let fm = FileManager.default
        guard let canary else {
            guard secrets == 0 else {
                throw VaultError(.integrity, "the vault's canary is missing but it holds \(secrets) sealed values; refusing to start a new vault over them")
            }
            let key: MasterKey
            if fm.fileExists(atPath: keyPath) {
                key = try MasterKey.load(path: keyPath)
            } else {
                key = MasterKey.generate()
                try key.write(to: keyPath)
                logger.notice("created master key", metadata: ["path": "\(keyPath)"])
            }
            let vault = Vault(masterKey: key)
            let sealed = try vault.seal(Vault.canaryText, identity: Vault.canaryIdentity)
            try store.vaultRecords.setCanary(sealed)
            return vault
        }
        let leftovers = [keyPath + ".new", keyPath + ".old"]
        for path in [keyPath] + leftovers where fm.fileExists(atPath: path) {
            let key = try MasterKey.load(path: path)
            guard opens(canary, with: key) else { continue }
            if path != keyPath {
                guard rename(path, keyPath) == 0 else {
                    throw VaultError(.rotationFailed, "cannot move \(path) to \(keyPath) to finish an interrupted key rotation")
                }
                MasterKey.syncDirectory(of: keyPath)
                logger.notice("finished an interrupted key rotation", metadata: ["from": "\(path)"])
            }
            for other in leftovers where fm.fileExists(atPath: other) {
                try? fm.removeItem(atPath: other)
                logger.notice("removed a leftover key file of a key rotation", metadata: ["path": "\(other)"])
            }
            return Vault(masterKey: key)
        }
        if !fm.fileExists(atPath: keyPath) {
            throw VaultError(.keyMissing,
                "this data directory holds an existing vault but its master key file \(keyPath) is missing; restore it from your backup (a new key cannot open the vault)")
        }
        throw VaultError(.wrongKey, "the master key in \(keyPath) does not open this vault")
    }

    /// The audit chain's HMAC key lives sealed in the vault, so it survives key rotation.
    static func loadAuditKey(store: Store, vault: Vault) throws {
        let key = try store.vaultRecords.auditKey(open: { try vault.open($0, identity: auditKeyIdentity) }, create: {
            var rng = SystemRandomNumberGenerator()
            let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            return (try vault.seal(fresh, identity: auditKeyIdentity), fresh)
        })
        store.auditKey.set(key)
    }

    static func opens(_ canary: Data, with key: MasterKey) -> Bool {
        (try? Vault(masterKey: key).open(canary, identity: Vault.canaryIdentity)) == Vault.canaryText
    }
}
