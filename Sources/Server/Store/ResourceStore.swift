import Foundation

/// A resource as it is shown: the record and its owner's user name.
struct ResourceEntry: Sendable, Equatable {
    var resource: ResourceRecord
    /// "(deleted)" when there is none.
    var owner: String
}

/// Resources (servers, devices, directories, databases). Names are unique whatever their case.
/// Visibility and permissions are those of `Access`, decided on what is stored; every method is
/// one transaction. An unknown resource type or password policy is `DomainError.invalid`
/// (`unknown_resource_type`, `unknown_policy`), as `Catalog` says it.
protocol ResourceStore: Sendable {
    /// One page of the resources `p` can see at all (through an account-level share too), by
    /// name, as `ResourceListQuery` selects them.
    func resources(visibleTo p: Principal, _ filter: ResourceFilter, _ page: PageRequest) async throws -> Page<ResourceEntry>
    /// The resource and `p`'s permission; with `viaAccounts` an account-level share lets `p` see
    /// it (as view). Nil when there is none or `p` cannot see it.
    func resource(_ id: String, visibleTo p: Principal, viaAccounts: Bool) async throws -> (entry: ResourceEntry, permission: Permission)?
    /// Adds the resource; a name taken is `StoreError.conflict` and nothing is stored.
    func create(_ resource: ResourceRecord, audit: AuditEvent) async throws
    /// Replaces a resource `p` can see with what `change` makes of it (it throws to refuse); the
    /// type and policy are checked. Nil when `p` cannot see it.
    func update(_ id: String, by p: Principal, _ change: @Sendable (ResourceRecord, Permission) throws -> ResourceRecord,
        audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> ResourceEntry?
    /// Deletes a resource `authorize` lets `p` delete, with its accounts, passwords and shares.
    /// Refused (`DomainError.conflict`, `reset_in_progress`) while a reset of one of its accounts is
    /// under way. False when `p` cannot see it.
    func delete(_ id: String, by p: Principal, authorize: @Sendable (ResourceRecord, Permission) throws -> Void,
        audit: @Sendable (ResourceRecord, _ accounts: Int) -> AuditEvent) async throws -> Bool
    /// Gives the resource to user `username` (nil to `authorize` when there is none); false when
    /// `p` cannot see it.
    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (ResourceRecord, Permission, UserRecord?) throws -> Void,
        audit: @Sendable (ResourceRecord, UserRecord) -> AuditEvent) async throws -> Bool
}

extension ResourceStore {
    /// Every resource `p` can see, by name.
    func resources(visibleTo p: Principal) async throws -> [ResourceEntry] {
        try await resources(visibleTo: p, ResourceFilter(), .all).items
    }
}
