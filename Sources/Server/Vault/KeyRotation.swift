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
        let count = try store.vaultRecords.resealAll({ sealed, identity in try newVault.seal(try current.open(sealed, identity: identity), identity: identity) },
            progress: { n, total in if failMid && n == max(1, total / 2) { throw Injected() } })
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
