import Foundation

/// Resources: create, list, show, edit, delete, transfer. A caller sees what they own or what is
/// shared with them; authorization goes through the one `Authorizer`, here, so the API and the
/// console get the same answer.
struct ResourceService: Sendable {
    let store: any ResourceStore
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    /// A resource owned by the caller.
    func create(_ b: ResourceBody, by p: Principal, ip: String) async throws -> ResourceRecord {
        try authorizer.check(p, .createResource)
        try b.validate()
        let at = now()
        let r = ResourceRecord(id: newID(), name: b.name, dnsName: b.dnsName, type: b.type, description: b.description,
            department: b.department, location: b.location, url: b.url, customFields: b.customFields ?? [:],
            passwordPolicy: b.passwordPolicy, ownerId: p.userID, createdAt: at, updatedAt: at)
        do {
            try await store.create(r, audit: AuditEvent(user: p.username, ip: ip, operation: "create_resource", resource: r.name, resourceId: r.id))
        } catch let e as StoreError where e.code == .conflict {
            throw DomainError.conflict(e.message)
        }
        return r
    }

    func resources(by p: Principal) async throws -> [ResourceEntry] {
        try await resources(ResourceFilter(), .all, by: p).items
    }

    /// One page of the resources the caller can see, by name.
    func resources(_ filter: ResourceFilter, _ page: PageRequest, by p: Principal) async throws -> Page<ResourceEntry> {
        try authorizer.check(p, .listResources)
        return try await store.resources(visibleTo: p, filter, page)
    }

    /// A resource the caller can see, also through a share of one of its accounts.
    func resource(_ id: String, by p: Principal) async throws -> ResourceEntry {
        guard let (entry, have) = try await store.resource(id, visibleTo: p, viaAccounts: true) else { throw DomainError.notFound("resource") }
        try authorizer.check(p, .readResource, effective: have, isObject: true)
        return entry
    }

    /// Which of `operations` the caller may do on the resource (the console's buttons).
    func allowed(_ operations: [Operation], on id: String, by p: Principal) async throws -> Set<Operation> {
        guard let (_, have) = try await store.resource(id, visibleTo: p, viaAccounts: false) else { return [] }
        return Set(operations.filter { (try? authorizer.check(p, $0, effective: have, isObject: true)) != nil })
    }

    func update(_ id: String, _ b: ResourcePatchBody, by p: Principal, ip: String) async throws -> ResourceEntry {
        try b.validate()
        let at = now()
        let entry = try await store.update(id, by: p, { [authorizer] stored, have in
            try authorizer.check(p, .updateResource, effective: have, isObject: true)
            var r = stored
            if let v = b.name { r.name = v }
            if let v = b.dnsName { r.dnsName = v }
            if let v = b.type { r.type = v }
            if let v = b.description { r.description = v }
            if let v = b.department { r.department = v }
            if let v = b.location { r.location = v }
            if let v = b.url { r.url = v }
            if let v = b.customFields { r.customFields = v }
            if let v = b.passwordPolicy { r.passwordPolicy = v }
            r.updatedAt = at
            return r
        }, audit: { r in AuditEvent(user: p.username, ip: ip, operation: "update_resource", resource: r.name, resourceId: r.id) })
        guard let entry else { throw DomainError.notFound("resource") }
        return entry
    }

    /// Deletes the resource with its accounts and passwords; never while a reset is under way.
    func delete(_ id: String, by p: Principal, ip: String) async throws {
        let deleted = try await store.delete(id, by: p, authorize: { [authorizer] _, have in
            try authorizer.check(p, .deleteResource, effective: have, isObject: true)
        }, audit: { r, n in
            AuditEvent(user: p.username, ip: ip, operation: "delete_resource", resource: r.name, message: "with \(n) accounts", resourceId: r.id)
        })
        guard deleted else { throw DomainError.notFound("resource") }
    }

    /// Only the owner or a super-administrator gives a resource away, and only to an
    /// administrator or password administrator.
    func transfer(_ id: String, to username: String, by p: Principal, ip: String) async throws {
        let done = try await store.transfer(id, to: username, by: p, authorize: { [authorizer] r, have, to in
            try authorizer.check(p, .transferOwnership, effective: have, isObject: true)
            try Ownership.checkTransfer(owner: r.ownerId, to: to, username: username, by: p)
        }, audit: { r, to in
            AuditEvent(user: p.username, ip: ip, operation: "transfer_ownership", resource: r.name, message: "to \(to.username)", resourceId: r.id)
        })
        guard done else { throw DomainError.notFound("resource") }
    }
}
