import Foundation
import Shared

/// `TaskStore` on PostgreSQL: table `tasks`, pending passwords in `secrets` (`PGSecretStore`),
/// notices and listener runs queued in the same transactions. A node claims a task with its name
/// and a lease it renews (`heartbeat`); a task whose node stopped renewing is reconciled by
/// another (`recoverLapsed`). The per-host limit counts the running tasks of every node.
struct PGTaskStore: TaskStore {
    let db: PGDatabase
    let log: PGAuditLog
    let node: PGNode
    let secrets: PGSecretStore
    let notices: PGNotices
    let listeners: PGListenerQueue

    func task(_ id: String) async throws -> TaskRecord? { try await db.read { c in try await Self.task(id, c) } }

    func activeCount(requestedBy userID: String) async throws -> Int {
        try await db.read { c in
            try await c.scalar(Int.self, "SELECT COUNT(*) FROM tasks WHERE requestedById = ? AND state IN ('queued', 'running')", [userID]) ?? 0
        }
    }

    func task(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> NamedTask? {
        try await db.read { c in
            guard let t = try await Self.task(id, c) else { return nil }
            let seen = try await PGAccountStore.visible(t.accountId, t.resourceId, p, c)
            if t.requestedById != p.userID {
                guard let (_, _, have) = seen else { return nil }
                try authorize(have)
            }
            return NamedTask(task: t, account: seen?.1, resource: seen?.0)
        }
    }

    func tasks(visibleTo p: Principal, mine: Bool, state: TaskRecord.State?, page: PageRequest) async throws -> Page<NamedTask> {
        try await db.read { c in
            var sql = "SELECT * FROM tasks WHERE TRUE"
            var args: [any PGBindable] = []
            if mine {
                sql += " AND requestedById = ?"
                args.append(p.userID)
            } else {
                let scope = try await ListScope.of(p, c)
                if !scope.everything {
                    sql += " AND (requestedById = ? OR accountId IN (\(PGStatement.marks(scope.accounts.count))))"
                    args += [p.userID] + Array(scope.accounts)
                }
            }
            if let state {
                sql += " AND state = ?"
                args.append(state.rawValue)
            }
            if let cur = page.after {
                let at = Double(cur.key) ?? 0
                sql += " AND (createdAt < ? OR (createdAt = ? AND id < ?))"
                args += [at, at, cur.id]
            }
            sql += " ORDER BY createdAt DESC, id DESC LIMIT ?"
            args.append(page.fetchLimit)
            let tasks = try await c.all(TaskRecord.self, sql, args)
            // The page's resources and accounts in two reads; the permission of each as `PGAccountStore.visible` decides.
            let rids = Array(Set(tasks.map(\.resourceId))), aids = Array(Set(tasks.map(\.accountId)))
            let resources = Dictionary(try await c.all(ResourceRecord.self, "SELECT * FROM resources WHERE id IN (\(NamedListQuery.list(rids)))", rids)
                .map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            let accounts = Dictionary(try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE id IN (\(NamedListQuery.list(aids)))", aids)
                .map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            var out: [NamedTask] = []
            for t in tasks {
                if let r = resources[t.resourceId], let a = accounts[t.accountId], a.resourceId == r.id,
                    try await PGAccess.onAccount(a, resource: r, p, c) != nil
                {
                    out.append(NamedTask(task: t, account: a, resource: r))
                } else {
                    out.append(NamedTask(task: t, account: nil, resource: nil))
                }
            }
            var result = Page(fetched: out, page, cursor: NamedTask.cursor)
            // The cursor holds the stored seconds exactly, read from the page's own last row.
            if let last = result.items.last, result.next != nil,
                let stored = try await c.scalar(Double.self, "SELECT createdAt FROM tasks WHERE id = ?", [last.task.id])
            {
                result.next = PageCursor(key: String(stored), id: last.task.id)
            }
            return result
        }
    }

    func run(resourceID: String, accountID: String, refs: @Sendable (ResetConfig?) -> [String]) async throws -> RunFacts {
        try await db.read { [secrets] c in
            guard let r = try await PGQueries.resource(resourceID, c), let a = try await PGQueries.account(accountID, c)
            else { throw DomainError.notFound("account") }
            let target = try await Self.target(r, a, c)
            var named: [String: RunFacts.Named] = [:]
            for ref in refs(target.config) {
                let acc = try await PGCatalog.accountRef(ref, on: r, c)
                named[ref] = RunFacts.Named(loginName: acc.loginName, secret: try await secrets.current(account: acc.id, c))
            }
            return RunFacts(target: target, current: try await secrets.current(account: a.id, c), named: named,
                policy: try await PGCatalog.effectivePolicy(for: r, c))
        }
    }

    func queue(_ accountID: String, of resourceID: String, visibleTo p: Principal, withPolicy: Bool,
        authorize: @Sendable (Permission) throws -> Void, plan: @Sendable (TargetFacts, QueueFacts) throws -> (TaskRecord, Secret?),
        audit: @Sendable (TaskRecord, ResourceRecord, AccountRecord) -> AuditEvent) async throws -> TaskRecord?
    {
        try await db.write { [secrets, log] c in
            guard let (r, a, have) = try await PGAccountStore.visible(accountID, resourceID, p, c) else { return nil }
            try authorize(have)
            let facts = QueueFacts(resetUnderWay: try await PGQueries.resetUnderWay(a.id, c), verifyUnderWay: try await PGQueries.verifyUnderWay(a.id, c),
                policy: withPolicy ? try await PGCatalog.effectivePolicy(for: r, c) : nil)
            let (t, given) = try plan(try await Self.target(r, a, c), facts)
            if let given, let sid = t.pendingSecretId {
                try await secrets.writePending(given, id: sid, account: a.id, by: t.requestedBy, at: t.createdAt, task: t.id, c)
            }
            try await c.insert(t, into: "tasks")
            try await log.append(audit(t, r, a), c)
            return t
        }
    }

    func anyClaimable(_ request: ClaimRequest) async throws -> Bool {
        let kinds = [request.limit > 0 ? "via != 'agent'" : nil, request.agentLimit > 0 ? "via = 'agent'" : nil].compactMap { $0 }
        guard !kinds.isEmpty else { return false }
        return try await db.read { c in
            let full = try await Self.hostCounts(request.busyHosts, c).filter { $0.value >= request.perHost }.map(\.key)
            return try await c.scalar(Int.self, """
                SELECT 1 FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ?
                  AND (\(kinds.joined(separator: " OR "))) \(full.isEmpty ? "" : "AND host NOT IN (\(PGStatement.marks(full.count)))")
                  AND accountId NOT IN (SELECT accountId FROM tasks WHERE state = 'running') LIMIT 1
                """, [request.at] + full) != nil
        }
    }

    func hasWork() async throws -> Bool {
        try await db.read { c in try await c.scalar(Int.self, "SELECT 1 FROM tasks WHERE state IN ('queued', 'unknown') LIMIT 1") != nil }
    }

    func save(_ write: TaskWrite) async throws {
        try await db.write { c in
            try await requireHeld(write.task.id, c)
            try await apply(write, c)
        }
    }

    func writePending(_ secret: Secret, id: String, account: String, by: String, at: Date, task: String) async throws {
        try await db.write { [secrets] c in
            try await requireHeld(task, c)
            try await secrets.writePending(secret, id: id, account: account, by: by, at: at, task: task, c)
        }
    }

    func pending(_ id: String, account: String) async throws -> Secret? {
        try await db.read { [secrets] c in try await secrets.pending(id: id, account: account, c) }
    }

    /// Fenced as a run's other writes, whatever the task's state now: a stale run never deletes a
    /// candidate the node that took its task over kept.
    func dropPending(_ id: String, task: String) async throws {
        try await db.write { [secrets] c in
            try await requireHeld(task, c)
            try await secrets.discardPending(id: id, c)
        }
    }

    func candidates(account: String) async throws -> [SecretStore.Candidate] {
        try await db.read { [secrets] c in try await secrets.candidates(account: account, c) }
    }

    func dropCandidates(_ ids: [String], task: String, audit: AuditEvent) async throws {
        try await db.write { [secrets, log] c in
            try await requireHeld(task, c)
            for id in ids { try await secrets.discardPending(id: id, c) }
            try await log.append(audit, c)
        }
    }

    static func task(_ id: String, _ c: PGConnection) async throws -> TaskRecord? {
        try await c.one(TaskRecord.self, "SELECT * FROM tasks WHERE id = ?", [id])
    }

    /// Running tasks per host across the cluster, never fewer than this node counts itself.
    static func hostCounts(_ mine: [String: Int], _ c: PGConnection) async throws -> [String: Int] {
        var counts = mine
        for row in try await c.rows("SELECT host, COUNT(*) AS n FROM tasks WHERE state = 'running' GROUP BY host") {
            let host: String = try row["host"]
            counts[host] = max(counts[host] ?? 0, try row["n", as: Int.self])
        }
        return counts
    }

    /// The target facts of an account, in the caller's transaction.
    static func target(_ r: ResourceRecord, _ a: AccountRecord, _ c: PGConnection) async throws -> TargetFacts {
        let config = try await PGQueries.resetConfig(for: r.id, c)
        let agent = try await PGQueries.boundAgent(r.id, c)
        let plugin = try await c.scalar(String.self, "SELECT plugin FROM resourceTypes WHERE name = ?", [r.type]) ?? "none"
        let custom = plugin.hasPrefix("external:")
            ? try await c.one(ListenerRecord.self, "SELECT * FROM listeners WHERE name = ?", [String(plugin.dropFirst(9))]) : nil
        return TargetFacts(resource: r, account: a, config: config, agentID: agent, pluginID: plugin, customPlugin: custom)
    }
}
