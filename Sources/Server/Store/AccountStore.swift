import Foundation
import Shared

/// The accounts of resources (a password's owner on a target), as `Access` lets a caller see them:
/// a grant on the resource (or its groups) shows them all, an account's own share shows that one.
/// `authorize` decides with the caller's permission on what is stored; every method is one
/// transaction, and a refusal changes nothing.
protocol AccountStore: Sendable {
    /// One page of the accounts of the resource the caller can see, by login name, as `filter`
    /// keeps them; nil when the caller cannot see the resource (an account's share shows it, as view).
    func accounts(of resourceID: String, visibleTo p: Principal, _ filter: AccountFilter, _ page: PageRequest,
        authorize: @Sendable (Permission) throws -> Void) async throws -> Page<AccountRecord>?
    /// The account of that resource; nil when there is none or the caller cannot see it.
    func account(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> AccountRecord?
    /// The caller's permission on the account; nil when it cannot see it.
    func permission(on accountID: String, of resourceID: String, visibleTo p: Principal) async throws -> Permission?
    /// Replaces the account with what `change` makes of it; nil when the caller cannot see it.
    func update(_ accountID: String, of resourceID: String, by p: Principal,
        _ change: @Sendable (AccountRecord, Permission) throws -> AccountRecord,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> AccountRecord?
    /// Deletes the account with its passwords and shares; refused (`DomainError.conflict`,
    /// `reset_in_progress`) while a reset of it is under way. False when the caller cannot see it.
    func delete(_ accountID: String, of resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent) async throws -> Bool
    /// The resources in agent mode bound to the agent, each with its config and accounts; what
    /// `plan` says is added and changed, with its audit records, in one transaction.
    func syncReported(by agentID: String, plan: @Sendable (ResourceRecord, ResetConfig, [AccountRecord]) -> AccountSyncPlan) async throws
}

/// What an agent's report changes on one resource: accounts added and accounts changed, each with
/// its audit record.
struct AccountSyncPlan: Sendable {
    var add: [(AccountRecord, AuditEvent)] = []
    var update: [(AccountRecord, AuditEvent)] = []
}

/// Adding accounts with their first password: one by one, or a CSV line that may create its resource.
protocol AccountCreationStore: Sendable {
    /// Adds the account `make` builds, with its first password (none: unknown until a reset, and
    /// `lastChangedAt` must then be nil); refused (`DomainError.conflict`) when the resource has an
    /// account of that name. nil when the caller cannot see the resource.
    func create(in resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        make: @Sendable (ResourceRecord) throws -> (AccountRecord, Secret?), audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent)
        async throws -> AccountRecord?
    /// One import line: the resource of that name (which the caller must manage), or the one
    /// `newResource` builds when there is none (its type must exist); then the account `make`
    /// builds, given the resource's policy. Returns whether the resource was created.
    func importAccount(resourceName: String, by p: Principal, newResource: @Sendable () -> ResourceRecord,
        make: @Sendable (ResourceRecord, PasswordPolicy) throws -> (AccountRecord, Secret),
        audit: @Sendable (ResourceRecord, AccountRecord, _ created: Bool) -> AuditEvent) async throws -> Bool
}

extension AccountStore {
    /// Every account of the resource the caller can see, with `syncStatus` when given.
    func accounts(of resourceID: String, visibleTo p: Principal, syncStatus: SyncStatus?, authorize: @Sendable (Permission) throws -> Void)
        async throws -> [AccountRecord]?
    {
        try await accounts(of: resourceID, visibleTo: p, AccountFilter(syncStatus: syncStatus), .all, authorize: authorize)?.items
    }
}
