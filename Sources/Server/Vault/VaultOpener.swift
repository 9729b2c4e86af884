import Foundation
import Logging

/// Opens the vault at start-up. A new vault gets its key; an existing one needs a key that opens
/// its canary. Leftovers of an interrupted rotation (`.new`, `.old`) are tried too, and the one
/// that opens the vault becomes the key file; the others are removed.
enum VaultOpener {
    static let auditKeyIdentity = "custody.audit.key.v1"

    static func open(store: Store, keyPath: String, logger: Logger) throws -> Vault {
        let records = SQLiteVaultRecords(store: store.vaultRecords)
        let vault = try openKey(canary: try records.canarySync(), setCanary: { try store.vaultRecords.setCanary($0) }, keyPath: keyPath, logger: logger)
        store.auditKey.set(try store.vaultRecords.auditKey(open: openAuditKey(vault), create: makeAuditKey(vault)))
        return vault
    }

    /// The same on any backend (PostgreSQL: several nodes may start together on a new database;
    /// the canary that is stored first wins, and a node whose key does not open it stops).
    static func open(records: any VaultRecords, auditKey: AuditKeyBox, keyPath: String, logger: Logger) async throws -> Vault {
        let vault = try openKey(canary: try await records.canary(), setCanary: { _ in }, keyPath: keyPath, logger: logger)
        let stored = try await records.canary().sealed
        if stored == nil { try await records.setCanary(try vault.seal(Vault.canaryText, identity: Vault.canaryIdentity)) }
        guard let canary = try await records.canary().sealed, opens(canary, with: vault.masterKey) else {
            throw VaultError(.wrongKey, "the master key in \(keyPath) does not open this vault (another node made the vault with another key)")
        }
        auditKey.set(try await records.auditKey(open: openAuditKey(vault), create: makeAuditKey(vault)))
        return vault
    }

    private static func openKey(canary: (sealed: Data?, passwords: Int), setCanary: (Data) throws -> Void, keyPath: String, logger: Logger) throws
        -> Vault
    {
        let (canary, secrets) = canary
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
            try setCanary(try vault.seal(Vault.canaryText, identity: Vault.canaryIdentity))
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
    static func openAuditKey(_ vault: Vault) -> @Sendable (Data) throws -> Data {
        { try vault.open($0, identity: auditKeyIdentity) }
    }

    static func makeAuditKey(_ vault: Vault) -> @Sendable () throws -> (sealed: Data, key: Data) {
        {
            var rng = SystemRandomNumberGenerator()
            let fresh = Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
            return (try vault.seal(fresh, identity: auditKeyIdentity), fresh)
        }
    }

    static func opens(_ canary: Data, with key: MasterKey) -> Bool {
        (try? Vault(masterKey: key).open(canary, identity: Vault.canaryIdentity)) == Vault.canaryText
    }
}
