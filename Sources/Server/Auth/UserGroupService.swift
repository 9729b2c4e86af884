import Foundation

/// User groups: administrators create them, set their members and delete them (with their
/// shares); everyone lists the groups they belong to, administrators all of them. Nobody but a
/// super-administrator adds themselves (a group may hold shares: that would be a way around sharing).
struct UserGroupService: Sendable {
    let store: any UserGroupStore
    let authorizer: Authorizer

    func create(name: String, members: [String], by p: Principal, ip: String) async throws -> String {
        try authorizer.check(p, .manageUserGroups)
        try Self.refuseSelfMembership(members, p)
        let id = newID()
        try await Self.mapped {
            try await store.create(id: id, name: name, members: members,
                audit: AuditEvent(user: p.username, ip: ip, operation: "create_user_group", message: "group \(name)"))
        }
        return id
    }

    func groups(visibleTo p: Principal) async throws -> [UserGroup] {
        try await store.groups(memberOf: p.role == .administrator || p.superAdmin ? nil : p.userID)
    }

    /// One page of the user groups the caller sees, by name, those whose name starts with `prefix`.
    func groups(named prefix: String?, _ page: PageRequest, visibleTo p: Principal) async throws -> Page<UserGroup> {
        try await store.groups(memberOf: p.role == .administrator || p.superAdmin ? nil : p.userID, named: prefix, page)
    }

    func setMembers(_ id: String, _ members: [String], by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageUserGroups)
        try Self.refuseSelfMembership(members, p)
        let found = try await Self.mapped {
            try await store.setMembers(id, members, audit: AuditEvent(user: p.username, ip: ip, operation: "update_user_group",
                message: "group \(id): \(members.joined(separator: ","))"))
        }
        guard found else { throw DomainError.notFound("user group") }
    }

    func delete(_ id: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageUserGroups)
        let event = AuditEvent(user: p.username, ip: ip, operation: "delete_user_group", message: "group \(id)")
        guard try await store.delete(id, audit: event) else { throw DomainError.notFound("user group") }
    }

    /// A store's refusal of a group's name or members, as the API says it.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as StoreError where e.code == .notFound {
            throw DomainError.invalid("unknown_user", e.message)
        } catch let e as StoreError where e.code == .conflict {
            throw DomainError(.conflict, "conflict", e.message)
        }
    }

    static func refuseSelfMembership(_ members: [String], _ p: Principal) throws {
        if !p.superAdmin && members.contains(where: { $0.lowercased() == p.username.lowercased() }) {
            throw DomainError(.forbidden, "forbidden", "you cannot add yourself to a user group")
        }
    }
}
