import Foundation

/// `Access` on PostgreSQL: the same effective share levels, read over a connection.
enum PGAccess {
    static func userGroupIDs(_ userID: String, _ c: PGConnection) async throws -> [String] {
        try await c.column(String.self, "SELECT groupId FROM userGroupMembers WHERE userId = ?", [userID])
    }

    static func grant(_ kind: ShareRecord.ObjectKind, _ ids: [String], _ p: Principal, groups: [String], _ c: PGConnection) async throws
        -> Permission?
    {
        guard !ids.isEmpty else { return nil }
        let shares = try await c.all(ShareRecord.self, "SELECT * FROM shares WHERE objectKind = ? AND objectId IN (\(PGStatement.marks(ids.count)))",
            [kind.rawValue] + ids)
        if let own = shares.filter({ $0.principalKind == .user && $0.principalId == p.userID }).map(\.permission).max() { return own }
        return shares.filter { $0.principalKind == .userGroup && groups.contains($0.principalId) }.map(\.permission).max()
    }

    static func onResource(_ resource: ResourceRecord, _ p: Principal, _ c: PGConnection) async throws -> Permission? {
        if p.superAdmin || resource.ownerId == p.userID { return .manage }
        let groups = try await userGroupIDs(p.userID, c)
        if let g = try await grant(.resource, [resource.id], p, groups: groups, c) { return g }
        let groupIDs = try await c.column(String.self, "SELECT groupId FROM groupResources WHERE resourceId = ?", [resource.id])
        return try await grant(.group, groupIDs, p, groups: groups, c)
    }

    /// The accounts of `resource` the caller can see (`Access.visibleAccounts`).
    static func visibleAccounts(of resource: ResourceRecord, _ p: Principal, _ c: PGConnection) async throws -> [AccountRecord] {
        let all = try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ? ORDER BY loginName", [resource.id])
        if try await onResource(resource, p, c) != nil { return all }
        let groups = Set(try await userGroupIDs(p.userID, c))
        let shares = try await c.all(ShareRecord.self, "SELECT * FROM shares WHERE objectKind = 'account' AND objectId IN (\(PGStatement.marks(all.count)))",
            all.map(\.id))
        let shared = Set(shares.filter {
            ($0.principalKind == .user && $0.principalId == p.userID) || ($0.principalKind == .userGroup && groups.contains($0.principalId))
        }.map(\.objectId))
        return all.filter { shared.contains($0.id) }
    }

    /// Resources the caller can see at all (`Access.visibleResources`).
    static func visibleResources(_ p: Principal, _ c: PGConnection) async throws -> [ResourceRecord] {
        try await PGResourceStore.page(p, ResourceFilter(), .all, c).items.map(\.resource)
    }
}

extension ListScope {
    /// `ListScope.of` over a PostgreSQL connection.
    static func of(_ p: Principal, _ c: PGConnection) async throws -> ListScope {
        if seesEverything(p) { return ListScope(everything: true, username: p.username, userID: p.userID, resources: [], accounts: []) }
        var whole = Set<String>(), accounts = Set<String>()
        for r in try await PGAccess.visibleResources(p, c) {
            let seen = try await PGAccess.visibleAccounts(of: r, p, c)
            if try await PGAccess.onResource(r, p, c) != nil { whole.insert(r.id) }
            accounts.formUnion(seen.map(\.id))
        }
        return ListScope(everything: false, username: p.username, userID: p.userID, resources: whole, accounts: accounts)
    }
}

extension PGAccess {
    static func onAccount(_ account: AccountRecord, resource: ResourceRecord, _ p: Principal, _ c: PGConnection) async throws -> Permission? {
        if p.superAdmin || resource.ownerId == p.userID { return .manage }
        let groups = try await userGroupIDs(p.userID, c)
        if let g = try await grant(.account, [account.id], p, groups: groups, c) { return min(g, .modify) }
        return try await onResource(resource, p, c)
    }

    static func onGroup(_ group: GroupRecord, _ p: Principal, _ c: PGConnection) async throws -> Permission? {
        if p.superAdmin || group.ownerId == p.userID { return .manage }
        return try await grant(.group, [group.id], p, groups: try await userGroupIDs(p.userID, c), c)
    }
}
