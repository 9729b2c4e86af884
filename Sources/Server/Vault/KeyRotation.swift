import Foundation

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
        let newVault = try writeNextKey()
        let failMid = failAt == .midReencrypt
        let count = try store.vaultRecords.resealAll(Self.reseal(from: current, to: newVault),
            progress: { n, total in if failMid && n == max(1, total / 2) { throw Injected() } })
        try installNextKey()
        return (count, newVault)
    }

    /// The same steps around any store's re-sealing (PostgreSQL: `PGVaultRecords.resealAll`).
    static func run(keyPath: String, current: Vault,
        resealAll: (@escaping @Sendable (Data, String) throws -> Data) async throws -> Int) async throws -> (rotated: Int, vault: Vault)
    {
        let steps = Steps(keyPath: keyPath)
        let newVault = try steps.writeNextKey()
        let count = try await resealAll(reseal(from: current, to: newVault))
        try steps.installNextKey()
        return (count, newVault)
    }

    static func reseal(from current: Vault, to next: Vault) -> @Sendable (Data, String) throws -> Data {
        { sealed, identity in try next.seal(try current.open(sealed, identity: identity), identity: identity) }
    }

    private func writeNextKey() throws -> Vault {
        let vault = try Steps(keyPath: keyPath).writeNextKey()
        if failAt == .newKeyWritten { throw Injected() }
        return vault
    }

    private func installNextKey() throws {
        if failAt == .committed { throw Injected() }
        try Steps(keyPath: keyPath).installNextKey(failAfterRename: failAt == .renamed)
    }

    /// The key file's steps: `KEY.new` written and synced; after the re-sealing, `KEY.old` kept and
    /// `KEY.new` renamed over `KEY`.
    struct Steps {
        let keyPath: String

        func writeNextKey() throws -> Vault {
            for leftover in [keyPath + ".new", keyPath + ".old"] where FileManager.default.fileExists(atPath: leftover) {
                try FileManager.default.removeItem(atPath: leftover)
            }
            let next = MasterKey.generate()
            try next.write(to: keyPath + ".new")
            return Vault(masterKey: next)
        }

        func installNextKey(failAfterRename: Bool = false) throws {
            let (pendingPath, oldPath) = (keyPath + ".new", keyPath + ".old")
            guard link(keyPath, oldPath) == 0 || FileManager.default.fileExists(atPath: oldPath) else {
                throw VaultError(.rotationFailed, "cannot keep the old key as \(oldPath)")
            }
            guard rename(pendingPath, keyPath) == 0 else {
                throw VaultError(.rotationFailed, "re-encrypted, but cannot move \(pendingPath) to \(keyPath); the server will finish this at start")
            }
            MasterKey.syncDirectory(of: keyPath)
            if failAfterRename { throw Injected() }
            try FileManager.default.removeItem(atPath: oldPath)
            MasterKey.syncDirectory(of: keyPath)
        }
    }
}
