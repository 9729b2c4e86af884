import Foundation

/// A change to a stored user, decided from the user as stored: the new record, whether the
/// user's sessions and tokens end with it, and the audit record.
struct UserChange: Sendable {
    var user: UserRecord
    var endSessions = false
    var audit: AuditEvent
}

/// The users administrators manage. Names are unique whatever their case. Every method is one
/// transaction; a decision closure runs inside it, on the user as stored, and may throw to refuse.
protocol UserStore: Sendable {
    /// Every user, by name.
    func users() async throws -> [UserRecord]
    /// One page of the users whose name starts with `prefix` (any case) and who hold `role`, by
    /// name whatever its case; the cursor names the last name.
    func users(named prefix: String?, role: Role?, _ page: PageRequest) async throws -> Page<UserRecord>
    func user(id: String) async throws -> UserRecord?
    /// Adds the user and audits; a name taken is `StoreError.conflict` and nothing is stored.
    func add(_ user: UserRecord, audit: AuditEvent) async throws
    /// Applies `change` to the stored user; nil when there is none.
    func update(_ id: String, at: Date, _ change: @Sendable (UserRecord) throws -> UserChange) async throws -> UserRecord?
    /// Deletes a user who owns no resource and no group, with the shares given to them; nil when
    /// there is none. One who owns something is `StoreError.conflict`, and nothing changes.
    func delete(_ id: String, audit: @Sendable (UserRecord) throws -> AuditEvent) async throws -> UserRecord?
}

extension NamedListQuery {
    static func users(role: Role?, _ dialect: ResourceListQuery.Dialect) -> NamedListQuery {
        var q = NamedListQuery("SELECT * FROM users WHERE 1=1", name: "username", id: "id", dialect)
        if let role { q.and("role = ?", [role.rawValue]) }
        return q
    }
}
