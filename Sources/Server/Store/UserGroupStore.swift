import Foundation

/// A user group: what shares can be given to, and who is in it.
struct UserGroup: Sendable, Equatable, Codable {
    var id: String
    var name: String
    /// User names, in order (case ignored).
    var members: [String]
}

/// User groups and their members. Names are unique whatever their case; members are named by
/// user name (any case), each at most once.
protocol UserGroupStore: Sendable {
    /// Every group by name, or only those `userID` belongs to.
    func groups(memberOf userID: String?) async throws -> [UserGroup]
    /// One page of those groups whose name starts with `prefix` (any case), by name whatever its
    /// case; the cursor names the last name.
    func groups(memberOf userID: String?, named prefix: String?, _ page: PageRequest) async throws -> Page<UserGroup>
    /// Creates the group with its members and audits `event`, in one transaction. A name taken is
    /// `StoreError.conflict`; a member who is no user is `StoreError.notFound`, and nothing is stored.
    func create(id: String, name: String, members: [String], audit event: AuditEvent) async throws
    /// Replaces the members (as `create` checks them) and audits; false when there is no such group.
    func setMembers(_ id: String, _ members: [String], audit event: AuditEvent) async throws -> Bool
    /// Deletes the group and every share given to it, and audits; false when there is no such group.
    func delete(_ id: String, audit event: AuditEvent) async throws -> Bool
}

extension NamedListQuery {
    /// Every user group, or those `userID` belongs to.
    static func userGroups(memberOf userID: String?, _ dialect: ResourceListQuery.Dialect) -> NamedListQuery {
        var q = NamedListQuery("SELECT id, name FROM userGroups WHERE 1=1", name: "name", id: "id", dialect)
        if let userID { q.and("id IN (SELECT groupId FROM userGroupMembers WHERE userId = ?)", [userID]) }
        return q
    }

    /// The members of each of `groups` by user name, in the store's order.
    static func members(_ groups: [String]) -> String {
        "SELECT m.groupId, u.username FROM userGroupMembers m JOIN users u ON u.id = m.userId WHERE m.groupId IN (\(list(groups))) ORDER BY u.username"
    }
}
