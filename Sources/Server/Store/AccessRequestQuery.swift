import Foundation

/// The SELECT of a page of access requests, newest first, for both stores: who they concern, the
/// state and account filters, and the keyset after the cursor (`createdAt` seconds, then id).
enum AccessRequestQuery {
    static let live = "('pending', 'approved', 'checkedOut')"
    /// The holder of a checked-out password (`?` account).
    static let holder = "SELECT requester, until FROM accessRequests WHERE accountId = ? AND state = 'checkedOut' ORDER BY until DESC LIMIT 1"
    /// The checked-out requests of an account (`?` account).
    static let holders = "SELECT * FROM accessRequests WHERE accountId = ? AND state = 'checkedOut' ORDER BY createdAt, id"
    /// A reset that makes a failed check-in's good: queued after it, with a generated password, not
    /// by the holder (`?` account, check-in time, holder).
    static let madeGood = """
        SELECT 1 FROM tasks WHERE accountId = ? AND kind = 'reset' AND state = 'succeeded' AND createdAt >= ? AND newPasswordGiven = 0
          AND (requestedById IS NULL OR requestedById <> ?) LIMIT 1
        """
    /// Marks a checkout so its check-in resets the password a rotation or expiry put off.
    static let catchUp = "UPDATE accessRequests SET catchUp = 1 WHERE accountId = ? AND state = 'checkedOut'"

    /// The accounts a share covers (`?` the object's id).
    static func covered(_ target: ShareTarget) -> (sql: String, id: String) {
        switch target {
        case .resource(let r): ("SELECT resourceId, id FROM accounts WHERE resourceId = ? ORDER BY id", r)
        case .group(let g):
            ("SELECT a.resourceId, a.id FROM accounts a JOIN groupResources gr ON gr.resourceId = a.resourceId WHERE gr.groupId = ? ORDER BY a.id", g)
        case .account(_, let a): ("SELECT resourceId, id FROM accounts WHERE id = ?", a)
        }
    }

    static func holderText(_ requester: String, _ until: Double?) -> String {
        "checked out by \(requester)" + (until.map { " until " + Notice.stamp(Date(timeIntervalSince1970: $0)) } ?? "")
    }

    static func page(_ f: AccessRequestFilter, _ page: PageRequest, _ dialect: ResourceListQuery.Dialect) -> (sql: String, arguments: [String]) {
        var sql = "SELECT * FROM accessRequests r WHERE 1=1"
        var args: [String] = []
        let approver = "EXISTS (SELECT 1 FROM accessApprovers x WHERE x.requestId = r.id AND x.userId = ?"
        switch f.who {
        case .all: break
        case .mine(let u):
            sql += " AND r.requesterId = ?"
            args.append(u)
        case .awaiting(let u):
            sql += " AND r.state = 'pending' AND r.requesterId <> ? AND \(approver) AND x.approvedAt IS NULL)"
            args += [u, u]
        case .involving(let u):
            sql += " AND (r.requesterId = ? OR \(approver)))"
            args += [u, u]
        }
        if let s = f.state {
            sql += " AND r.state = ?"
            args.append(s.rawValue)
        }
        if let a = f.accountId {
            sql += " AND r.accountId = ?"
            args.append(a)
        }
        if let c = page.after {
            let t = dialect == .sqlite ? "?" : "CAST(? AS DOUBLE PRECISION)"
            sql += " AND (r.createdAt < \(t) OR (r.createdAt = \(t) AND r.id < ?))"
            args += [c.key, c.key, c.id]
        }
        sql += " ORDER BY r.createdAt DESC, r.id DESC " + dialect.limit(page, &args)
        return (sql, args)
    }

    static func cursor(_ r: AccessRequestRecord) -> PageCursor {
        PageCursor(key: String(r.createdAt.timeIntervalSince1970), id: r.id)
    }

    /// The rules on an account, its resource, then its groups by name: the first found governs.
    static func effective(account: String, resource: String, rows: [(scope: String, scopeId: String, name: String, policy: String)])
        throws -> EffectivePolicy?
    {
        for scope in [AccessScope.account, .resource, .group] {
            guard let row = rows.first(where: { $0.scope == scope.rawValue }) else { continue }
            let policy = try JSONDecoder().decode(AccessPolicy.self, from: Data(row.policy.utf8))
            return EffectivePolicy(policy: policy, scope: scope, scopeId: row.scopeId, scopeName: row.name)
        }
        return nil
    }

    /// The resource's rule on share removal, else its first group's.
    static func shareRemoval(rows: [(scope: String, scopeId: String, name: String, policy: String)]) throws -> Bool {
        for scope in [AccessScope.resource, .group] {
            guard let row = rows.first(where: { $0.scope == scope.rawValue }) else { continue }
            return try JSONDecoder().decode(AccessPolicy.self, from: Data(row.policy.utf8)).resetOnShareRemoval
        }
        return false
    }

    /// The policies that may govern an account, group ones by the group's name (`?` account, resource, resource).
    static func policiesSQL(_ dialect: ResourceListQuery.Dialect) -> String {
        let nocase = dialect == .sqlite ? "COLLATE NOCASE" : "COLLATE nocase"
        return """
            SELECT scope, scopeId, '' AS name, policy FROM accessPolicies WHERE (scope = 'account' AND scopeId = ?) OR (scope = 'resource' AND scopeId = ?)
            UNION ALL
            SELECT * FROM (SELECT p.scope, p.scopeId, g.name, p.policy FROM groupResources gr JOIN groups g ON g.id = gr.groupId
              JOIN accessPolicies p ON p.scope = 'group' AND p.scopeId = g.id WHERE gr.resourceId = ? ORDER BY g.name \(nocase), g.id LIMIT 1) AS first
            """
    }

    static func encode(_ p: AccessPolicy) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return String(decoding: try e.encode(p), as: UTF8.self)
    }
}
