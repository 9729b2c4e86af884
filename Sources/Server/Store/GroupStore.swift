import Foundation

/// A resource group as it is shown: the record, its owner's name and its resources.
struct GroupEntry: Sendable, Equatable {
    var group: GroupRecord
    /// The owner's user name, "(deleted)" when there is none.
    var owner: String
    /// Resource ids, sorted.
    var resourceIds: [String]
}

/// What a caller may do with a resource they want to put in a group: the resource and the
/// caller's permission on it (nil: they cannot see it). The closure throws to refuse.
typealias ResourceCheck = @Sendable (_ id: String, _ name: String?, _ permission: Permission?) throws -> Void

/// Static resource groups. Names are unique whatever their case. Every method is one
/// transaction; visibility and permissions are those of `Access`, decided on what is stored.
protocol GroupStore: Sendable {
    /// The groups `p` can see, by name, with the permission `p` holds on each.
    func groups(visibleTo p: Principal) async throws -> [(entry: GroupEntry, permission: Permission)]
    /// One page of the groups `p` can see whose name starts with `prefix` (any case), ordered by
    /// name whatever its case (the store's collation), the cursor naming the last name.
    func groups(named prefix: String?, _ page: PageRequest, visibleTo p: Principal) async throws -> Page<GroupEntry>
    /// The group and `p`'s permission; nil when there is none or `p` cannot see it.
    func group(_ id: String, visibleTo p: Principal) async throws -> (entry: GroupEntry, permission: Permission)?
    /// Adds the group with its resources (each passed to `check` first). A name taken is
    /// `StoreError.conflict`, an unknown policy `StoreError.notFound`; nothing is stored then.
    func create(_ group: GroupRecord, resourceIds: [String], by p: Principal, check: ResourceCheck, audit: AuditEvent) async throws
        -> GroupEntry
    /// Replaces the resources of a group `authorize` lets `p` change; nil when `p` cannot see it.
    func setResources(_ id: String, _ resourceIds: [String], by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        check: ResourceCheck, audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> GroupEntry?
    /// Deletes a group (its resources stay, its shares go); false when `p` cannot see it.
    func delete(_ id: String, by p: Principal, authorize: @Sendable (GroupRecord, Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
    /// Gives the group to user `username` (any case; nil to `authorize` when there is none), if
    /// `authorize` accepts; false when `p` cannot see the group.
    func transfer(_ id: String, to username: String, by p: Principal,
        authorize: @Sendable (GroupRecord, Permission, UserRecord?) throws -> Void, audit: @Sendable (GroupRecord, UserRecord) -> AuditEvent)
        async throws -> Bool
}

extension NamedListQuery {
    /// The groups `p` sees with their owner's name: every group for a super-administrator, else
    /// those `p` owns or that are shared with `p` or one of `userGroups` (as `Access.onGroup` decides).
    static func groups(_ p: Principal, userGroups: [String], _ dialect: ResourceListQuery.Dialect) -> NamedListQuery {
        var q = NamedListQuery("SELECT g.*, u.username AS ownerName FROM groups g LEFT JOIN users u ON u.id = g.ownerId WHERE 1=1",
            name: "g.name", id: "g.id", dialect)
        if !p.superAdmin {
            q.and("""
                g.ownerId = ? OR g.id IN (SELECT s.objectId FROM shares s WHERE s.objectKind = 'group'
                  AND ((s.principalKind = 'user' AND s.principalId = ?) OR (s.principalKind = 'userGroup' AND s.principalId IN (\(list(userGroups))))))
                """, [p.userID, p.userID] + userGroups)
        }
        return q
    }

    /// The shares of groups with `p` or one of `userGroups`: objectId, principalKind, permission.
    static func groupGrants(_ p: Principal, userGroups: [String]) -> (sql: String, arguments: [String]) {
        ("""
            SELECT objectId, principalKind, permission FROM shares WHERE objectKind = 'group'
              AND ((principalKind = 'user' AND principalId = ?) OR (principalKind = 'userGroup' AND principalId IN (\(list(userGroups)))))
            """, [p.userID] + userGroups)
    }

    /// The permission on each group from its shares, as `Access.grant` decides one: the caller's
    /// own share if any, else the best of its user groups'. An unknown permission grants nothing.
    static func grants(_ rows: [(object: String, kind: String, permission: String)]) -> [String: Permission] {
        var own: [String: Permission] = [:], viaGroups: [String: Permission] = [:]
        for r in rows {
            guard let have = Permission(rawValue: r.permission) else { continue }
            if r.kind == ShareRecord.PrincipalKind.user.rawValue {
                own[r.object] = max(own[r.object] ?? have, have)
            } else {
                viaGroups[r.object] = max(viaGroups[r.object] ?? have, have)
            }
        }
        return viaGroups.merging(own) { _, mine in mine }
    }

    /// Every group `p` sees with its permission: manage for a super-administrator or the owner, else the grant.
    static func visible(_ entries: [GroupEntry], _ p: Principal, grants: [String: Permission]) -> [(entry: GroupEntry, permission: Permission)] {
        entries.compactMap { e in
            let have = p.superAdmin || e.group.ownerId == p.userID ? .manage : grants[e.group.id]
            return have.map { (e, $0) }
        }
    }

    /// The resources of each of `groups`, sorted.
    static func groupResources(_ groups: [String]) -> String {
        "SELECT groupId, resourceId FROM groupResources WHERE groupId IN (\(list(groups))) ORDER BY resourceId"
    }
}
