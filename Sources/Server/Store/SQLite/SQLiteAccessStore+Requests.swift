import Foundation
import GRDB

extension SQLiteAccessStore {
    func gate(account: String, of resource: String, for p: Principal) async throws -> AccessGateFacts? {
        try await db.read { db in
            let (enabled, holders) = try Self.gateFacts(account: account, resource: resource, db)
            guard enabled || !holders.isEmpty else { return AccessGateFacts(enabled: false, holders: []) }
            guard let a = try AccountRecord.fetchOne(db, key: account), a.resourceId == resource, let r = try ResourceRecord.fetchOne(db, key: resource)
            else { return nil }
            return AccessGateFacts(enabled: enabled, holders: holders, permission: try Access.onAccount(a, resource: r, p, db))
        }
    }

    static let policies = AccessRequestQuery.policiesSQL(.sqlite)

    /// Whether access control applies to the account, and who holds it checked out.
    static func gateFacts(account: String, resource: String, _ db: Database) throws -> (enabled: Bool, holders: [AccessRequestRecord]) {
        // Every retrieval asks: cached statements, not compiled each time.
        let rows = try Row.fetchAll(db.cachedStatement(sql: policies), arguments: [account, resource, resource]).map {
            (scope: $0["scope"] as String, scopeId: $0["scopeId"] as String, name: $0["name"] as String, policy: $0["policy"] as String)
        }
        let holders = try AccessRequestRecord.fetchAll(db.cachedStatement(sql: AccessRequestQuery.holders), arguments: [account])
        return (try AccessRequestQuery.effective(account: account, resource: resource, rows: rows)?.policy.enabled ?? false, holders)
    }

    func facts(account: String, of resource: String, for p: Principal) async throws -> AccessFacts? {
        try await db.read { db in try Self.facts(account, resource, p, db) }
    }

    func transition(account: String, of resource: String, for p: Principal, _ decide: @Sendable (AccessFacts, UserRecord?) throws -> AccessWrite)
        async throws -> AccessWrite?
    {
        try await db.write { [notices, queued] db in
            guard let facts = try Self.facts(account, resource, p, db) else { return nil }
            let w = try decide(facts, try UserRecord.fetchOne(db, key: p.userID))
            if let c = w.created {
                try c.insert(db)
                try Self.approvers(c, db)
            }
            for r in w.requests {
                try r.update(db)
                try Self.approvers(r, db)
            }
            for e in w.audit { try AuditLog.append(e, in: db) }
            try notices.queue(w.notices, db)
            if let t = w.task {
                try t.insert(db)
                db.afterNextTransaction { _ in queued() }
            }
            return w
        }
    }

    func end(_ id: String, as state: AccessRequestRecord.State, at: Date, note: String, audit: AuditEvent) async throws {
        try await db.write { db in
            guard var r = try AccessRequestRecord.fetchOne(db, key: id), r.state.isLive else { return }
            r.state = state
            r.comment = note
            r.expiresAt = nil
            r.checkedInAt = r.state == .checkedIn ? at : nil
            try r.update(db)
            try AuditLog.append(audit, in: db)
        }
    }

    func accounts(coveredBy target: ShareTarget) async throws -> [(resource: String, account: String)] {
        let q = AccessRequestQuery.covered(target)
        return try await db.read { db in try Row.fetchAll(db, sql: q.sql, arguments: [q.id]).map { (resource: $0[0], account: $0[1]) } }
    }

    func request(_ id: String) async throws -> AccessRequestRecord? {
        try await db.read { db in try AccessRequestRecord.fetchOne(db, key: id) }
    }

    func requests(_ filter: AccessRequestFilter, _ page: PageRequest) async throws -> Page<AccessRequestRecord> {
        let q = AccessRequestQuery.page(filter, page, .sqlite)
        let rows = try await db.read { db in try AccessRequestRecord.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.arguments)) }
        return Page(fetched: rows, page, cursor: AccessRequestQuery.cursor)
    }

    func due(at: Date) async throws -> [AccessRequestRecord] {
        try await db.read { db in
            try AccessRequestRecord.fetchAll(db, sql: """
                SELECT * FROM accessRequests WHERE (state IN ('pending', 'approved') AND expiresAt <= ?) OR (state = 'checkedOut' AND until <= ?)
                ORDER BY createdAt, id
                """, arguments: [at.timeIntervalSince1970, at.timeIntervalSince1970])
        }
    }

    func nextDeadline() async throws -> Date? {
        try await db.read { db in
            try Double.fetchOne(db, sql: """
                SELECT min(d) FROM (SELECT min(expiresAt) AS d FROM accessRequests WHERE state IN ('pending', 'approved')
                  UNION ALL SELECT min(until) FROM accessRequests WHERE state = 'checkedOut')
                """).map { Date(timeIntervalSince1970: $0) }
        }
    }

    static func facts(_ aid: String, _ rid: String, _ p: Principal, _ db: Database) throws -> AccessFacts? {
        guard let a = try AccountRecord.fetchOne(db, key: aid), a.resourceId == rid, let r = try ResourceRecord.fetchOne(db, key: rid) else { return nil }
        let rows = try Row.fetchAll(db, sql: AccessRequestQuery.policiesSQL(.sqlite), arguments: [aid, rid, rid]).map {
            (scope: $0["scope"] as String, scopeId: $0["scopeId"] as String, name: $0["name"] as String, policy: $0["policy"] as String)
        }
        let live = try AccessRequestRecord.fetchAll(db, sql: """
            SELECT * FROM accessRequests WHERE accountId = ? AND state IN \(AccessRequestQuery.live) ORDER BY createdAt, id
            """, arguments: [aid])
        let policy = try AccessRequestQuery.effective(account: aid, resource: rid, rows: rows)
        return AccessFacts(resource: r, account: a, permission: try Access.onAccount(a, resource: r, p, db), policy: policy, live: live,
            target: try SQLiteTaskStore.target(r, a, db), resetUnderWay: try TaskRecord.resetUnderWay(aid, db), attention: try attention(aid, db),
            approvers: try policy.map { try expand($0.policy.approvers, db) } ?? [],
            exempt: Set(try policy.map { try expand($0.policy.exempt, db).map(\.id) } ?? []),
            resetOnShareRemoval: try AccessRequestQuery.shareRemoval(rows: rows))
    }

    /// The last check-in whose reset was not queued or did not succeed, unless a reset succeeded since.
    static func attention(_ aid: String, _ db: Database) throws -> AccessRequestRecord? {
        guard let last = try AccessRequestRecord.fetchOne(db, sql: """
            SELECT * FROM accessRequests WHERE accountId = ? AND state = 'checkedIn' AND (resetTaskId IS NOT NULL OR resetProblem IS NOT NULL)
            ORDER BY checkedInAt DESC LIMIT 1
            """, arguments: [aid]), let at = last.checkedInAt
        else { return nil }
        if let t = last.resetTaskId, let state = try String.fetchOne(db, sql: "SELECT state FROM tasks WHERE id = ?", arguments: [t]),
            ["queued", "running", "succeeded"].contains(state)
        {
            return nil
        }
        let since = try Int.fetchOne(db, sql: AccessRequestQuery.madeGood, arguments: [aid, at.timeIntervalSince1970, last.requesterId])
        return since == nil ? last : nil
    }

    /// Keeps `accessApprovers` (what `awaiting=me` reads) in step with the request.
    static func approvers(_ r: AccessRequestRecord, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM accessApprovers WHERE requestId = ?", arguments: [r.id])
        for u in r.approverIds {
            try db.execute(sql: "INSERT INTO accessApprovers(requestId, userId, approvedAt) VALUES (?, ?, ?)",
                arguments: [r.id, u, r.approvals.first { $0.userId == u }?.at])
        }
    }
}
