import Foundation
import Shared

/// The transitions that decide on stored state: claiming (with this node's lease), ending,
/// committing, promoting, and taking over the tasks of a node that stopped.
extension PGTaskStore {
    func claim(_ request: ClaimRequest, windowClosed: @Sendable (TaskRecord) -> TaskWrite,
        supersededVerify: @Sendable (TaskRecord) -> TaskWrite) async throws -> [TaskRecord]
    {
        guard request.limit > 0 || request.agentLimit > 0 else { return [] }
        return try await db.write { c in
            for t in try await c.all(TaskRecord.self, """
                SELECT * FROM tasks WHERE state = 'queued' AND phase = 'queued' AND notAfter IS NOT NULL AND notAfter <= ?
                """, [request.at])
            {
                var w = windowClosed(t)
                w.dropPending = t.pendingSecretId
                w.task.pendingSecretId = nil
                try await apply(w, c)
            }
            var counts = try await Self.hostCounts(request.busyHosts, c)
            var picked: [TaskRecord] = []
            var left = (agentless: request.limit, agent: request.agentLimit)
            var busy = Set(try await c.column(String.self, "SELECT accountId FROM tasks WHERE state = 'running'"))
            let resetting = Set(try await c.column(String.self, "SELECT accountId FROM tasks WHERE kind = 'reset' AND state IN ('queued', 'running', 'unknown')"))
            let due = try await c.all(TaskRecord.self, """
                SELECT * FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ? ORDER BY createdAt LIMIT 500 FOR UPDATE SKIP LOCKED
                """, [request.at])
            busy.formUnion(due.filter { request.excluding.contains($0.id) }.map(\.accountId))
            for var t in due where !request.excluding.contains(t.id) && counts[t.host, default: 0] < request.perHost && !busy.contains(t.accountId) {
                if t.kind == .verify && resetting.contains(t.accountId) {
                    try await apply(supersededVerify(t), c)
                    continue
                }
                if t.via == "agent" {
                    guard left.agent > 0 else { continue }
                    left.agent -= 1
                } else {
                    guard left.agentless > 0 else { continue }
                    left.agentless -= 1
                }
                busy.insert(t.accountId)
                counts[t.host, default: 0] += 1
                t.state = .running
                t.startedAt = t.startedAt ?? request.at
                try await c.update(t, in: "tasks")
                try await c.execute("UPDATE tasks SET claimedBy = ?, takenFrom = NULL, claimToken = ?, leaseUntil = \(node.clockSQL) + ? WHERE id = ?",
                    [node.id, request.token, node.leaseSeconds, t.id])
                picked.append(t)
            }
            return picked
        }
    }

    /// At start: this node's running tasks (left by its previous run), those of no node, and those
    /// whose node's lease has lapsed, each replaced by what `recover` makes of it.
    func recover(_ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord] {
        try await take("claimedBy = ? OR claimedBy IS NULL OR leaseUntil < \(node.clockSQL)", [node.id], recover) { [node] in $0 != node.id }
    }

    /// While running: the tasks of other nodes whose lease lapsed (the node died or lost the database).
    func recoverLapsed(held: [String], _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord] {
        // This node's own lapsed tasks too, unless its engine still runs them (their writes then
        // decide; a run that ends is settled by `recoverHeld`).
        // Any run of these may still be alive (a stalled node, or a run here that gave up its hold).
        guard !held.isEmpty else { return try await take("leaseUntil < \(node.clockSQL)", [], recover) { _ in true } }
        return try await take("leaseUntil < \(node.clockSQL) AND (claimedBy != ? OR id NOT IN (\(PGStatement.marks(held.count))))",
            [node.id as any PGBindable] + held.map { $0 as any PGBindable }, recover) { _ in true }
    }

    func recoverHeld(_ id: String, _ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> TaskRecord? {
        try await take("id = ? AND claimedBy = ?", [id, node.id], recover) { _ in false }.first
    }

    /// Leases are judged on the database's clock, never a node's: nodes' clocks may disagree.
    static let dbNow = "extract(epoch from clock_timestamp())::double precision"

    /// `mayLive` says, from the node that held a task, whether the run that held it may still be
    /// alive: a reset of such a task to reconcile is marked `takenOver` (`ResetEngine.reconcile`).
    private func take(_ condition: String, _ values: [any PGBindable], _ recover: @Sendable (TaskRecord) -> TaskRecord,
        mayLive: @Sendable (String?) -> Bool) async throws -> [TaskRecord]
    {
        try await db.write { c in
            var out: [TaskRecord] = []
            for row in try await c.rows("SELECT * FROM tasks WHERE state = 'running' AND (\(condition))", values) {
                let t = try row.decode(TaskRecord.self)
                var r = recover(t)
                let holder: String? = try row["claimedBy"]
                if r.kind == .reset && r.state == .unknown && mayLive(holder) {
                    r.resultCode = TaskRecord.takenOverCode
                }
                try await c.update(r, in: "tasks")
                // A task taken back remembers from which node, this one included: the late writes of
                // the run that held it are refused (`requireHeld`) until a new claim.
                try await c.execute("""
                    UPDATE tasks SET takenFrom = claimedBy, claimedBy = NULL, claimToken = NULL, leaseUntil = NULL WHERE id = ? AND state != 'running'
                    """, [r.id])
                // What its run queued for an agent and the agent has not taken is withdrawn: the
                // reconcile decides from the target, and a late change never follows its verify.
                try await c.execute("""
                    UPDATE agentJobs SET state = 'cancelled', ciphertext = \(PGAgentJobStore.empty) WHERE taskId = ? AND state IN ('queued', 'offered')
                    """, [r.id])
                out.append(r)
            }
            return out
        }
    }

    /// Renews this node's lease on its running tasks and records that it is alive.
    /// Outside the writer lock: a renewal never waits behind other nodes' writes.
    func heartbeat(held: [String]) async throws {
        try await db.read { [node] c in
            try await c.execute("""
                UPDATE tasks SET leaseUntil = \(node.clockSQL) + ? WHERE claimedBy = ? AND state = 'running' AND id IN (\(PGStatement.marks(held.count)))
                """, [node.leaseSeconds as any PGBindable, node.id] + held.map { $0 as any PGBindable })
            try await c.execute("""
                INSERT INTO nodes(id, version, startedAt, heartbeatAt) VALUES (?, ?, \(node.clockSQL), \(node.clockSQL))
                ON CONFLICT (id) DO UPDATE SET version = excluded.version, heartbeatAt = excluded.heartbeatAt
                """, [node.id, node.version])
        }
    }

    func leave() async throws {
        try await db.write { [node] c in try await c.execute("DELETE FROM nodes WHERE id = ?", [node.id]) }
    }

    func finish(_ task: TaskRecord, _ decide: @Sendable (TaskRecord, Bool) -> TaskWrite) async throws {
        try await db.write { c in
            try await requireHeld(task.id, c)
            try await apply(decide(task, try await Self.superseded(task, c)), c)
        }
    }

    func commit(_ write: TaskWrite, at: Date, listenerTrigger: String) async throws {
        try await db.write { [secrets, listeners] c in
            let t = write.task
            try await requireHeld(t.id, c)
            if let sid = t.pendingSecretId {
                let r = try await PGQueries.resource(t.resourceId, c)
                var keep = 0
                if let r { keep = try await PGCatalog.effectivePolicy(for: r, c).historyDepth }
                let old = try await secrets.current(account: t.accountId, c)
                let new = try await secrets.pending(id: sid, account: t.accountId, c)
                try await secrets.promotePending(id: sid, account: t.accountId, keep: keep, c)
                if let new, let r, let a = try await PGQueries.account(t.accountId, c) {
                    try await listeners.queue(r, a, old: old, new: new, trigger: listenerTrigger, c)
                }
            }
            try await c.execute("UPDATE accounts SET syncStatus = 'inSync', lastChangedAt = ?, lastVerifiedAt = ? WHERE id = ?", [at, at, t.accountId])
            // The new password just verified: candidates an earlier unresolved reset left are settled.
            for stale in try await secrets.candidates(account: t.accountId, c) where !stale.active && stale.id != t.pendingSecretId {
                try await secrets.discardPending(id: stale.id, c)
            }
            var w = write
            w.task.pendingSecretId = nil
            try await apply(w, c)
        }
    }

    func promote(_ candidateID: String, for task: TaskRecord, at: Date, audit: AuditEvent) async throws -> Bool {
        try await db.write { [secrets, log] c in
            try await requireHeld(task.id, c)
            // Not over a reset under way, nor over a change made since this verify started.
            guard try await !Self.superseded(task, c) else { return false }
            var keep = 0
            if let r = try await PGQueries.resource(task.resourceId, c) { keep = try await PGCatalog.effectivePolicy(for: r, c).historyDepth }
            try await secrets.promotePending(id: candidateID, account: task.accountId, keep: keep, c)
            for other in try await secrets.candidates(account: task.accountId, c) where !other.active {
                try await secrets.discardPending(id: other.id, c)
            }
            try await c.execute("UPDATE tasks SET pendingSecretId = NULL WHERE pendingSecretId = ?", [candidateID])
            try await c.execute("UPDATE accounts SET lastChangedAt = ? WHERE id = ?", [at, task.accountId])
            try await log.append(audit, c)
            return true
        }
    }

    func pinHostKey(_ key: String, resourceID: String, task: String?, audit: @Sendable (ResourceRecord) -> AuditEvent) async throws -> Bool {
        try await db.write { [log] c in
            if let task { try await requireHeld(task, c) }
            guard var config = try await PGQueries.resetConfig(for: resourceID, c), config.hostKey == nil,
                let r = try await PGQueries.resource(resourceID, c)
            else { return false }
            config.hostKey = key
            let json = String(decoding: try JSONEncoder.api.encode(config), as: UTF8.self)
            try await c.execute("UPDATE resetConfigs SET json = ? WHERE resourceId = ?", [json, resourceID])
            try await log.append(audit(r), c)
            return true
        }
    }

    func abandon(_ id: String, _ decide: @Sendable (TaskRecord) throws -> TaskWrite) async throws -> TaskRecord? {
        try await db.write { c in
            guard let t = try await Self.task(id, c) else { return nil }
            let w = try decide(t)
            try await apply(w, c)
            return w.task
        }
    }

    /// Writes `w` in the caller's transaction; a task that ends leaves its node's hold.
    func apply(_ w: TaskWrite, _ c: PGConnection) async throws {
        if let sid = w.dropPending { try await secrets.discardPending(id: sid, c) }
        try await c.update(w.task, in: "tasks")
        if w.task.state != .running { try await c.execute("UPDATE tasks SET claimedBy = NULL, leaseUntil = NULL WHERE id = ?", [w.task.id]) }
        if let sync = w.sync {
            if let at = w.verifiedAt {
                try await c.execute("UPDATE accounts SET syncStatus = ?, lastVerifiedAt = ? WHERE id = ?", [sync.rawValue, at, w.task.accountId])
            } else {
                try await c.execute("UPDATE accounts SET syncStatus = ? WHERE id = ?", [sync.rawValue, w.task.accountId])
            }
        }
        for e in w.audit { try await log.append(e, c) }
        for key in w.clearMarks { try await PGNotices.clearMark(key, c) }
        try await notices.queue(w.notices, c)
    }

    /// A verify that started before a reset committed, or while one is under way, says nothing
    /// about the password now in the vault.
    static func superseded(_ t: TaskRecord, _ c: PGConnection) async throws -> Bool {
        guard t.kind == .verify else { return false }
        if try await PGQueries.resetUnderWay(t.accountId, c) { return true }
        let changed = try await c.scalar(Double.self, "SELECT lastChangedAt FROM accounts WHERE id = ?", [t.accountId])
        return (changed ?? 0) > (t.startedAt ?? t.createdAt).seconds
    }
}
