import Foundation

/// What can be shared: a resource, a group, or one account of a resource.
enum ShareTarget: Sendable, Equatable {
    case resource(String)
    case group(String)
    case account(resource: String, account: String)
}

/// The object a share list belongs to, as stored, for the audit record.
struct SharedObject: Sendable {
    var resource: ResourceRecord?
    var account: AccountRecord?
    var group: GroupRecord?
}

/// An object's shares by name: users and user groups with their permission.
struct ShareList: Sendable, Equatable, Codable {
    struct User: Sendable, Equatable, Codable { var username: String; var permission: Permission }
    struct Group: Sendable, Equatable, Codable { var name: String; var permission: Permission }
    var users: [User] = []
    var userGroups: [Group] = []
}

/// What replacing an object's shares came to.
enum ShareOutcome: Sendable, Equatable {
    case replaced
    /// The caller cannot see the object.
    case notVisible
    case unknownUser(String)
    case unknownUserGroup(String)
}

/// What the caller's grant must satisfy, decided on what is stored: the shares the object holds
/// now and the user groups the caller belongs to (id and name). It throws to refuse.
typealias ShareRule = @Sendable (_ held: [ShareRecord], _ callerGroups: [(id: String, name: String)]) throws -> Void

/// Shares of resources, groups and accounts with users and user groups. Visibility and the
/// caller's permission are those of `Access` on the object as stored; `authorize` decides with
/// them. Every method is one transaction, and a refusal stores nothing.
protocol ShareStore: Sendable {
    /// The object's shares (users, then user groups, in the order they were given); nil when `p`
    /// cannot see it.
    func shares(of target: ShareTarget, by p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> ShareList?
    /// Replaces the object's shares once `authorize` and `rule` accept, and audits.
    func replace(_ target: ShareTarget, with list: ShareList, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        rule: ShareRule, audit: @Sendable (SharedObject) -> AuditEvent) async throws -> ShareOutcome
}
