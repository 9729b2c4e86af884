import Foundation

extension PGAccessStore {
    func gate(account: String, of resource: String, for p: Principal) async throws -> AccessGateFacts? {
        try await db.read { c in
            let (enabled, holders) = try await Self.gateFacts(account: account, resource: resource, c)
            guard enabled || !holders.isEmpty else { return AccessGateFacts(enabled: false, holders: []) }
            guard let a = try await PGQueries.account(account, c), a.resourceId == resource, let r = try await PGQueries.resource(resource, c)
            else { return nil }
            return AccessGateFacts(enabled: enabled, holders: holders, permission: try await PGAccess.onAccount(a, resource: r, p, c))
        }
    }

    /// Whether access control applies to the account, and who holds it checked out.
    static func gateFacts(account: String, resource: String, _ c: PGConnection) async throws -> (enabled: Bool, holders: [AccessRequestRecord]) {
        var rows: [(scope: String, scopeId: String, name: String, policy: String)] = []
        for row in try await c.rows(AccessRequestQuery.policiesSQL(.postgres), [account, resource, resource]) {
            rows.append((try row["scope"], try row["scopeId"], try row["name"], try row["policy"]))
        }
        let holders = try await c.all(AccessRequestRecord.self, AccessRequestQuery.holders, [account])
        return (try AccessRequestQuery.effective(account: account, resource: resource, rows: rows)?.policy.enabled ?? false, holders)
    }

    func facts(account: String, of resource: String, for p: Principal) async throws -> AccessFacts? {
        try await db.read { c in try await Self.facts(account, resource, p, c) }
    }

    func transition(account: String, of resource: String, for p: Principal, _ decide: @Sendable (AccessFacts, UserRecord?) throws -> AccessWrite)
        async throws -> AccessWrite?
    {
        try await db.write { [log, notices, queued] c in
            // One transition of an account at a time, across nodes.
            guard try await c.scalar(String.self, "SELECT id FROM accounts WHERE id = ? FOR UPDATE", [account]) != nil,
                let facts = try await Self.facts(account, resource, p, c)
            else { return nil }
            let w = try decide(facts, try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [p.userID]))
            if let r = w.created {
                try await c.insert(r, into: "accessRequests")
                try await Self.approvers(r, c)
            }
            for r in w.requests {
                try await c.update(r, in: "accessRequests")
                try await Self.approvers(r, c)
            }
            for e in w.audit { try await log.append(e, c) }
            try await notices.queue(w.notices, c)
            if let t = w.task {
                try await c.insert(t, into: "tasks")
                c.afterCommit(queued)
            }
            return w
        }
    }

    func end(_ id: String, as state: AccessRequestRecord.State, at: Date, note: String, audit: AuditEvent) async throws {
        try await db.write { [log] c in
            guard var r = try await c.one(AccessRequestRecord.self, "SELECT * FROM accessRequests WHERE id = ? FOR UPDATE", [id]), r.state.isLive
            else { return }
            r.state = state
            r.comment = note
            r.expiresAt = nil
            try await c.update(r, in: "accessRequests")
            try await log.append(audit, c)
        }
    }

    func accounts(coveredBy target: ShareTarget) async throws -> [(resource: String, account: String)] {
        let q = AccessRequestQuery.covered(target)
        return try await db.read { c in
            var out: [(resource: String, account: String)] = []
            for row in try await c.rows(q.sql, [q.id]) { out.append((resource: try row[0], account: try row[1])) }
            return out
        }
    }

    func request(_ id: String) async throws -> AccessRequestRecord? {
        try await db.read { c in try await c.one(AccessRequestRecord.self, "SELECT * FROM accessRequests WHERE id = ?", [id]) }
    }

    func requests(_ filter: AccessRequestFilter, _ page: PageRequest) async throws -> Page<AccessRequestRecord> {
        let q = AccessRequestQuery.page(filter, page, .postgres)
        let rows = try await db.read { c in try await c.all(AccessRequestRecord.self, q.sql, q.arguments) }
        return Page(fetched: rows, page, cursor: AccessRequestQuery.cursor)
    }

    func due(at: Date) async throws -> [AccessRequestRecord] {
        try await db.read { c in
            try await c.all(AccessRequestRecord.self, """
                SELECT * FROM accessRequests WHERE (state IN ('pending', 'approved') AND expiresAt <= ?) OR (state = 'checkedOut' AND until <= ?)
                ORDER BY createdAt, id
                """, [at, at])
        }
    }

    func nextDeadline() async throws -> Date? {
        try await db.read { c in
            try await c.scalar(Double.self, """
                SELECT min(d) FROM (SELECT min(expiresAt) AS d FROM accessRequests WHERE state IN ('pending', 'approved')
                  UNION ALL SELECT min(until) FROM accessRequests WHERE state = 'checkedOut') AS deadlines
                """).map { Date(timeIntervalSince1970: $0) }
        }
    }

    static func facts(_ aid: String, _ rid: String, _ p: Principal, _ c: PGConnection) async throws -> AccessFacts? {
        guard let a = try await PGQueries.account(aid, c), a.resourceId == rid, let r = try await PGQueries.resource(rid, c) else { return nil }
        var rows: [(scope: String, scopeId: String, name: String, policy: String)] = []
        for row in try await c.rows(AccessRequestQuery.policiesSQL(.postgres), [aid, rid, rid]) {
            rows.append((try row["scope"], try row["scopeId"], try row["name"], try row["policy"]))
        }
        let live = try await c.all(AccessRequestRecord.self, """
            SELECT * FROM accessRequests WHERE accountId = ? AND state IN \(AccessRequestQuery.live) ORDER BY createdAt, id
            """, [aid])
        let policy = try AccessRequestQuery.effective(account: aid, resource: rid, rows: rows)
        var approvers: [AccessPerson] = [], exempt = Set<String>()
        if let policy {
            approvers = try await expand(policy.policy.approvers, c)
            exempt = Set(try await expand(policy.policy.exempt, c).map(\.id))
        }
        return AccessFacts(resource: r, account: a, permission: try await PGAccess.onAccount(a, resource: r, p, c), policy: policy, live: live,
            target: try await PGTaskStore.target(r, a, c), resetUnderWay: try await PGQueries.resetUnderWay(aid, c),
            attention: try await attention(aid, c), approvers: approvers, exempt: exempt,
            resetOnShareRemoval: try AccessRequestQuery.shareRemoval(rows: rows))
    }

    static func attention(_ aid: String, _ c: PGConnection) async throws -> AccessRequestRecord? {
        guard let last = try await c.one(AccessRequestRecord.self, """
            SELECT * FROM accessRequests WHERE accountId = ? AND state = 'checkedIn' AND (resetTaskId IS NOT NULL OR resetProblem IS NOT NULL)
            ORDER BY checkedInAt DESC LIMIT 1
            """, [aid]), let at = last.checkedInAt
        else { return nil }
        if let t = last.resetTaskId, let state = try await c.scalar(String.self, "SELECT state FROM tasks WHERE id = ?", [t]),
            ["queued", "running", "succeeded"].contains(state)
        {
            return nil
        }
        let since = try await c.scalar(Int.self, AccessRequestQuery.madeGood, [aid, at, last.requesterId])
        return since == nil ? last : nil
    }

    static func approvers(_ r: AccessRequestRecord, _ c: PGConnection) async throws {
        try await c.execute("DELETE FROM accessApprovers WHERE requestId = ?", [r.id])
        for u in r.approverIds {
            let at = r.approvals.first { $0.userId == u }?.at
            try await c.execute("INSERT INTO accessApprovers(requestId, userId, approvedAt) VALUES (?, ?, ?)", [r.id, u, at])
        }
    }
}
