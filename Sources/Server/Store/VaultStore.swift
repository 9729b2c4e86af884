import Foundation

/// The vault's own records: the canary that proves a master key opens this vault, the sealed audit
/// key, and every sealed value re-sealed under a new key. Used at start-up and by `custody key
/// rotate`, before any service runs, so it is synchronous.
protocol VaultStore: Sendable {
    /// The sealed canary, if the vault has one, and how many sealed passwords it holds.
    func canary() throws -> (sealed: Data?, passwords: Int)
    func setCanary(_ sealed: Data) throws
    /// The audit key: `open`ed from its sealed record, or made by `create` and stored sealed (an
    /// empty trail then starts at the genesis head keyed with it), in one transaction.
    func auditKey(open: (Data) throws -> Data, create: () throws -> (sealed: Data, key: Data)) throws -> Data
    /// Re-seals every sealed value (passwords, listener scripts and runs, second factors, the
    /// vault's own records) with `reseal(sealed, identity)` in one durable transaction; `progress`
    /// is told after each password (done, total) and may stop it by throwing. Returns how many
    /// passwords.
    func resealAll(_ reseal: (Data, String) throws -> Data, progress: (Int, Int) throws -> Void) throws -> Int
}
