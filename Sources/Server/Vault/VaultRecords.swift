import Foundation

/// The vault's own records as start-up reads them, on either backend.
protocol VaultRecords: Sendable {
    /// The sealed canary, if the vault has one, and how many sealed passwords it holds.
    func canary() async throws -> (sealed: Data?, passwords: Int)
    /// Stores the canary unless one is stored already (another node may have been first).
    func setCanary(_ sealed: Data) async throws
    /// The audit key: opened from its sealed record, or made and stored sealed (`VaultStore.auditKey`).
    func auditKey(open: @escaping @Sendable (Data) throws -> Data, create: @escaping @Sendable () throws -> (sealed: Data, key: Data)) async throws
        -> Data
}

/// `VaultRecords` over SQLite's synchronous `VaultStore` (start-up only, before any service runs).
struct SQLiteVaultRecords: VaultRecords {
    let store: any VaultStore

    func canarySync() throws -> (sealed: Data?, passwords: Int) { try store.canary() }
    func canary() async throws -> (sealed: Data?, passwords: Int) { try store.canary() }
    func setCanary(_ sealed: Data) async throws { if try store.canary().sealed == nil { try store.setCanary(sealed) } }
    func auditKey(open: @escaping @Sendable (Data) throws -> Data, create: @escaping @Sendable () throws -> (sealed: Data, key: Data)) async throws
        -> Data
    { try store.auditKey(open: open, create: create) }
}
