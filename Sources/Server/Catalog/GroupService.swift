import Foundation

/// Static resource groups: create, list, show, change their resources, delete, transfer. A
/// caller sees the groups they own or that are shared with them; a group's resources must be
/// ones the caller manages. Authorization goes through the one `Authorizer`, here, so the API
/// and the console get the same answer.
struct GroupService: Sendable {
    let store: any GroupStore
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    func create(_ body: GroupBody, by p: Principal, ip: String) async throws -> GroupEntry {
        try authorizer.check(p, .createGroup)
        try body.validate()
        let g = GroupRecord(id: newID(), name: body.name, ownerId: p.userID, passwordPolicy: body.passwordPolicy, createdAt: now())
        do {
            return try await store.create(g, resourceIds: body.resourceIds ?? [], by: p, check: Self.manages,
                audit: AuditEvent(user: p.username, ip: ip, operation: "create_group", message: "group \(g.name)"))
        } catch let e as StoreError where e.code == .notFound {
            throw DomainError.invalid("unknown_policy", e.message)
        } catch let e as StoreError where e.code == .conflict {
            throw DomainError.conflict(e.message)
        }
    }

    func groups(visibleTo p: Principal) async throws -> [GroupEntry] { try await store.groups(visibleTo: p).map(\.entry) }

    /// One page of the groups the caller sees, by name, those whose name starts with `prefix`.
    func groups(named prefix: String?, _ page: PageRequest, visibleTo p: Principal) async throws -> Page<GroupEntry> {
        try await store.groups(named: prefix, page, visibleTo: p)
    }

    func group(_ id: String, by p: Principal) async throws -> GroupEntry {
        guard let (entry, have) = try await store.group(id, visibleTo: p) else { throw DomainError.notFound("group") }
        try authorizer.check(p, .readGroup, effective: have, isObject: true)
        return entry
    }

    func setResources(_ id: String, _ resourceIds: [String], by p: Principal, ip: String) async throws -> GroupEntry {
        let entry = try await store.setResources(id, resourceIds, by: p, authorize: authorize(p, .updateGroup), check: Self.manages) { g in
            AuditEvent(user: p.username, ip: ip, operation: "update_group", message: "group \(g.name): \(resourceIds.count) resources")
        }
        guard let entry else { throw DomainError.notFound("group") }
        return entry
    }

    func delete(_ id: String, by p: Principal, ip: String) async throws {
        let deleted = try await store.delete(id, by: p, authorize: authorize(p, .deleteGroup)) { g in
            AuditEvent(user: p.username, ip: ip, operation: "delete_group", message: "group \(g.name)")
        }
        guard deleted else { throw DomainError.notFound("group") }
    }

    /// Only the owner or a super-administrator gives a group away, and only to an administrator
    /// or password administrator.
    func transfer(_ id: String, to username: String, by p: Principal, ip: String) async throws {
        let check = authorize(p, .transferOwnership)
        let done = try await store.transfer(id, to: username, by: p, authorize: { g, have, to in
                try check(g, have)
                try Ownership.checkTransfer(owner: g.ownerId, to: to, username: username, by: p)
            }, audit: { g, to in
                AuditEvent(user: p.username, ip: ip, operation: "transfer_ownership", message: "group \(g.name) to \(to.username)")
            })
        guard done else { throw DomainError.notFound("group") }
    }

    private func authorize(_ p: Principal, _ op: Operation) -> @Sendable (GroupRecord, Permission) throws -> Void {
        { [authorizer] _, have in try authorizer.check(p, op, effective: have, isObject: true) }
    }

    /// Only resources the caller manages may be put in a group.
    static let manages: ResourceCheck = { id, name, have in
        guard let name, let have else { throw DomainError.invalid("unknown_resource", "no resource \(id) visible to you") }
        if have < .manage { throw DomainError.forbidden("you need manage permission on resource \(name) to group it") }
    }
}
