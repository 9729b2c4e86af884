import GRDB

/// Effective share levels. The most specific grant wins: account over resource over group,
/// and a grant to the user over a grant to one of the user's groups. Owners and
/// super-administrators hold manage.
enum Access {
    static func userGroupIDs(_ userID: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT groupId FROM userGroupMembers WHERE userId = ?"), arguments: [userID])
    }

    /// The grant on one object: the user's own if any, else the best of its user groups.
    static func grant(_ kind: ShareRecord.ObjectKind, _ ids: [String], _ p: Principal, groups: [String], _ db: Database) throws
        -> Permission?
    {
        guard !ids.isEmpty else { return nil }
        // One object (every retrieval asks): a statement prepared once per connection.
        let shares = ids.count == 1
            ? try ShareRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM shares WHERE objectKind = ? AND objectId = ?"),
                arguments: [kind.rawValue, ids[0]])
            : try ShareRecord.filter(Column("objectKind") == kind.rawValue && ids.contains(Column("objectId"))).fetchAll(db)
        let own = shares.filter { $0.principalKind == .user && $0.principalId == p.userID }.map(\.permission).max()
        if let own { return own }
        return shares.filter { $0.principalKind == .userGroup && groups.contains($0.principalId) }.map(\.permission).max()
    }

    static func onResource(_ resource: ResourceRecord, _ p: Principal, _ db: Database) throws -> Permission? {
        if p.superAdmin || resource.ownerId == p.userID { return .manage }
        let groups = try userGroupIDs(p.userID, db)
        if let g = try grant(.resource, [resource.id], p, groups: groups, db) { return g }
        let groupIDs = try String.fetchAll(db.cachedStatement(sql: "SELECT groupId FROM groupResources WHERE resourceId = ?"), arguments: [resource.id])
        return try grant(.group, groupIDs, p, groups: groups, db)
    }

    static func onAccount(_ account: AccountRecord, resource: ResourceRecord, _ p: Principal, _ db: Database) throws -> Permission? {
        var memo = AccessMemo()
        return try onAccount(account, resource: resource, p, &memo, db)
    }

    /// The same, remembering the caller's user groups and each resource's permission across calls
    /// (a page of tasks names the same resources again and again).
    static func onAccount(_ account: AccountRecord, resource: ResourceRecord, _ p: Principal, _ memo: inout AccessMemo, _ db: Database) throws
        -> Permission?
    {
        if p.superAdmin || resource.ownerId == p.userID { return .manage }
        let groups = try memo.groups ?? userGroupIDs(p.userID, db)
        memo.groups = groups
        if let g = try grant(.account, [account.id], p, groups: groups, db) { return min(g, .modify) }
        if let known = memo.resources[resource.id] { return known }
        let have = try onResource(resource, p, db)
        memo.resources[resource.id] = .some(have)
        return have
    }

    static func onGroup(_ group: GroupRecord, _ p: Principal, _ db: Database) throws -> Permission? {
        if p.superAdmin || group.ownerId == p.userID { return .manage }
        return try grant(.group, [group.id], p, groups: try userGroupIDs(p.userID, db), db)
    }

    /// The accounts of `resource` the caller can see, by login name: all of them with a grant on
    /// the resource (or its groups), else those shared one by one. Same answer as `onAccount` per account.
    static func visibleAccounts(of resource: ResourceRecord, _ p: Principal, _ db: Database) throws -> [AccountRecord] {
        let all = try AccountRecord.filter(Column("resourceId") == resource.id).order(Column("loginName")).fetchAll(db)
        if try onResource(resource, p, db) != nil { return all }
        let groups = Set(try userGroupIDs(p.userID, db))
        let shared = Set(try ShareRecord.filter(Column("objectKind") == ShareRecord.ObjectKind.account.rawValue
            && all.map(\.id).contains(Column("objectId"))).fetchAll(db)
            .filter { ($0.principalKind == .user && $0.principalId == p.userID) || ($0.principalKind == .userGroup && groups.contains($0.principalId)) }
            .map(\.objectId))
        return all.filter { shared.contains($0.id) }
    }

    /// Resources the caller can see at all (including through an account-level share), by name.
    static func visibleResources(_ p: Principal, _ db: Database) throws -> [ResourceRecord] {
        try SQLiteResourceStore.page(p, ResourceFilter(), .all, db).items.map(\.resource)
    }
}

/// What `Access` decided already for one caller, within one read.
struct AccessMemo {
    var groups: [String]? = nil
    var resources: [String: Permission?] = [:]
}
