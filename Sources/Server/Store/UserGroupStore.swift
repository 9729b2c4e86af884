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
    /// Creates the group with its members and audits `event`, in one transaction. A name taken is
    /// `StoreError.conflict`; a member who is no user is `StoreError.notFound`, and nothing is stored.
    func create(id: String, name: String, members: [String], audit event: AuditEvent) async throws
    /// Replaces the members (as `create` checks them) and audits; false when there is no such group.
    func setMembers(_ id: String, _ members: [String], audit event: AuditEvent) async throws -> Bool
    /// Deletes the group and every share given to it, and audits; false when there is no such group.
    func delete(_ id: String, audit event: AuditEvent) async throws -> Bool
}
