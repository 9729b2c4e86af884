import Foundation

/// The accounts of resources (a password's owner on a target), as `Access` lets a caller see them:
/// a grant on the resource (or its groups) shows them all, an account's own share shows that one.
/// `authorize` decides with the caller's permission on what is stored; every method is one
/// transaction, and a refusal changes nothing.
protocol AccountStore: Sendable {
    /// The accounts of the resource the caller can see, by login name, with `syncStatus` when
    /// given; nil when the caller cannot see the resource (an account's share shows it, as view).
    func accounts(of resourceID: String, visibleTo p: Principal, syncStatus: SyncStatus?, authorize: @Sendable (Permission) throws -> Void)
        async throws -> [AccountRecord]?
    /// The account of that resource; nil when there is none or the caller cannot see it.
    func account(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> AccountRecord?
    /// Replaces the account with what `change` makes of it; nil when the caller cannot see it.
    func update(_ accountID: String, of resourceID: String, by p: Principal,
        _ change: @Sendable (AccountRecord, Permission) throws -> AccountRecord,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> AccountRecord?
    /// Deletes the account with its passwords and shares; refused (`DomainError.conflict`,
    /// `reset_in_progress`) while a reset of it is under way. False when the caller cannot see it.
    func delete(_ accountID: String, of resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> Bool
}
