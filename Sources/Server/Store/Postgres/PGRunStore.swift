import Foundation
import Shared

/// `RunStore` on PostgreSQL: tables `rotationRuns`, `integrityRuns` (entries as JSON), `rotations`,
/// `expiries` and `notificationMarks`; tasks and pending passwords as `PGTaskStore` writes them.
/// Each start re-checks inside its transaction, under the writer lock, that it is due, so a
/// schedule that fires on every node runs once.
struct PGRunStore: RunStore {
    let db: PGDatabase
    let log: PGAuditLog
    let secrets: PGSecretStore
    let notices: PGNotices
    /// Wakes the engine once a transaction that queued tasks has committed.
    let queued: @Sendable () -> Void

    func scheduledGroups() async throws -> [GroupRecord] {
        try await db.read { c in
            try await c.all(GroupRecord.self, "SELECT g.* FROM groups g JOIN rotations ro ON ro.groupId = g.id ORDER BY g.name")
        }
    }

    func startRotation(of groupID: String, trigger: String, by user: String, at: Date, ranAt: Date?, caller: Principal?,
        authorize: @Sendable (Permission) throws -> Void, due: @Sendable (SavedRotation?) -> Bool,
        plan: @Sendable (GroupRecord, RotationConfig?, [[RunCandidate]]) throws -> [RunStep],
        audit: @Sendable (GroupRecord, RotationRunRecord) -> AuditEvent) async throws -> RotationRunRecord?
    {
        try await db.write { c in
            guard let g = try await PGRotationStore.group(groupID, c) else { return nil }
            if let caller {
                guard let have = try await PGAccess.onGroup(g, caller, c) else { return nil }
                try authorize(have)
            }
            let saved = try await PGRotationStore.saved(g.id, c)
            guard due(saved) else { return nil }
            let resources = try await c.all(ResourceRecord.self, """
                SELECT r.* FROM resources r JOIN groupResources gr ON gr.resourceId = r.id
                JOIN resetConfigs c ON c.resourceId = r.id WHERE gr.groupId = ? ORDER BY r.name
                """, [g.id])
            var candidates: [[RunCandidate]] = []
            for r in resources { candidates.append(try await Self.candidates(r, c)) }
            let steps = try plan(g, saved?.config, candidates)
            var run = RotationRunRecord(id: newID(), groupId: g.id, trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
            run.entries = try await write(steps, rotationRun: run.id, integrityRun: nil, c)
            try await c.execute("INSERT INTO rotationRuns(id, groupId, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?, ?)",
                [run.id, g.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
            if let ranAt { try await c.execute("UPDATE rotations SET lastRunAt = ? WHERE groupId = ?", [ranAt, g.id]) }
            try await log.append(audit(g, run), c)
            return run
        }
    }

    func rotationFailed(_ groupID: String, at: Date, audit: AuditEvent) async throws {
        try await db.write { c in
            try await log.append(audit, c)
            try await c.execute("UPDATE rotations SET lastRunAt = ? WHERE groupId = ?", [at, groupID])
        }
    }

    func rotationRun(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationRunView? {
        try await db.read { c in
            guard let row = try await c.row("SELECT * FROM rotationRuns WHERE id = ?", [id]),
                let g = try await PGRotationStore.group(try row["groupId"], c), let have = try await PGAccess.onGroup(g, p, c)
            else { return nil }
            try authorize(have)
            return try await Self.view(row, scope: try await ListScope.of(p, c), c)
        }
    }

    /// Queues each step's task (with its pending password) and returns the run's entries.
    func write(_ steps: [RunStep], rotationRun: String?, integrityRun: String?, _ c: PGConnection) async throws -> [RotationRunRecord.Entry] {
        var entries: [RotationRunRecord.Entry] = []
        for step in steps {
            var entry = step.entry
            if step.catchUp { try await c.execute(AccessRequestQuery.catchUp, [entry.accountId]) }
            if var t = step.task {
                t.rotationRunId = rotationRun
                t.integrityRunId = integrityRun
                if let given = step.pending, let sid = t.pendingSecretId {
                    try await secrets.writePending(given, id: sid, account: t.accountId, by: t.requestedBy, at: t.createdAt, task: t.id, c)
                }
                try await c.insert(t, into: "tasks")
                entry.taskId = t.id
            }
            entries.append(entry)
        }
        if entries.contains(where: { $0.taskId != nil }) { c.afterCommit(queued) }
        return entries
    }

    static func holder(_ accountID: String, _ c: PGConnection) async throws -> String? {
        guard let row = try await c.row(AccessRequestQuery.holder, [accountID]) else { return nil }
        return AccessRequestQuery.holderText(try row["requester"], try row["until"])
    }

    /// The accounts of a resource by login name, with what a run decides on.
    static func candidates(_ r: ResourceRecord, _ c: PGConnection) async throws -> [RunCandidate] {
        let policy = try await PGCatalog.effectivePolicy(for: r, c)
        var out: [RunCandidate] = []
        for a in try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ? ORDER BY loginName", [r.id]) {
            out.append(RunCandidate(target: try await PGTaskStore.target(r, a, c), resetUnderWay: try await PGQueries.resetUnderWay(a.id, c),
                verifyUnderWay: try await PGQueries.verifyUnderWay(a.id, c), policy: policy,
                nothingToVerify: try await c.scalar(Int.self, "SELECT 1 FROM secrets WHERE accountId = ? AND state IN ('current', 'pending') LIMIT 1",
                    [a.id]) == nil, checkedOut: try await holder(a.id, c)))
        }
        return out
    }

    /// A run with each account's outcome read from its task; `scope` keeps what the caller may see.
    static func view(_ row: PGRow, scope: ListScope?, _ c: PGConnection) async throws -> RotationRunView {
        let group: String = row.has("groupId") ? try row["groupId"] : ""
        let id: String = try row["id"]
        return try RotationRunView(id: id, trigger: try row["trigger"], requestedBy: try row["requestedBy"], groupId: group,
            startedAt: try row["startedAt"], entries: try row["entries"], scope: scope,
            outcomes: try await outcomes(group.isEmpty ? .integrity : .rotation, of: [id], c))
    }
}
