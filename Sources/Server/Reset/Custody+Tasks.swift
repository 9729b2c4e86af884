import Foundation
import GRDB
import Shared

/// Queueing, claiming and recovering tasks.
extension Custody {
    struct ResetTarget: Sendable {
        let resource: ResourceRecord
        let account: AccountRecord
        let config: ResetConfig
        let plugin: any ResetPlugin

        /// 400 `invalid_login_name` when the plugin cannot pass the account's name to its target.
        func checkLoginName() throws {
            do throws(ResetFailure) { try plugin.checkLoginName(account.loginName) } catch {
                throw DomainError.invalid("invalid_login_name", error.message)
            }
        }
    }

    /// The plugin and config for an account, or a 400 saying what is missing.
    func resetTarget(_ r: ResourceRecord, _ a: AccountRecord, _ db: Database) throws -> ResetTarget {
        guard let config = try ResetConfig.stored(for: r.id, db), config.mode != .none
        else { throw DomainError.invalid("reset_not_configured", "resource \(r.name) has no reset configuration (PUT /resources/\(r.id)/reset-config)") }
        if config.mode == .agent {
            guard let agent = try agentFor(r, db) else {
                throw DomainError.invalid("no_agent", "no agent is bound to resource \(r.name): an administrator binds one with a bundle for "
                    + "this resource (POST /agent-packages with resourceId) or approves one (POST /agents/{id}/bindings)")
            }
            return ResetTarget(resource: r, account: a, config: config, plugin: AgentPlugin(queue: agentJobs, agentID: agent.id))
        }
        let pluginID = try String.fetchOne(db, sql: "SELECT plugin FROM resourceTypes WHERE name = ?", arguments: [r.type]) ?? "none"
        if pluginID.hasPrefix("external:") {
            return ResetTarget(resource: r, account: a, config: config, plugin: try externalPlugin(named: String(pluginID.dropFirst(9)), db))
        }
        guard let plugin = plugins.plugin(pluginID, type: r.type) else {
            if pluginID == "network" || pluginID.hasPrefix("dialect:") {
                throw DomainError.invalid("reset_unsupported", "no device dialect serves resources of type \(r.type) (plugin \(pluginID))")
            }
            throw DomainError.invalid("reset_unsupported", "resources of type \(r.type) (plugin \(pluginID)) have no remote reset in this version")
        }
        return ResetTarget(resource: r, account: a, config: config, plugin: plugin)
    }

    func queueReset(rid: String, aid: String, by p: Principal, newPassword: Secret?, reason: String?, ticketId: String?, ip: String)
        async throws -> TaskRecord
    {
        let task = try await store.write { db -> TaskRecord in
            let (r, a, _) = try Catalog.account(rid, aid, p, .changePassword, authorizer, db)
            let target = try resetTarget(r, a, db)
            try target.checkLoginName()
            if let given = newPassword {
                let policy = try Catalog.effectivePolicy(for: r, db)
                let problems = policy.violations(of: given, loginName: a.loginName)
                if !problems.isEmpty {
                    throw DomainError.invalid("policy_violation", "the password breaks policy \(policy.name): \(problems.joined(separator: "; "))")
                }
                if let problem = target.plugin.descriptor.constraints.problem(with: given) {
                    throw DomainError.invalid("unsupported_password", "the target cannot take this password: \(problem)")
                }
            }
            if try resetUnderWay(a.id, db) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is already under way")
            }
            var t = try newTask(.reset, r, a, by: p.username, id: p.userID, reason: reason, ticketId: ticketId, db)
            if let given = newPassword {
                let sid = newID()
                try secrets.writePending(given, id: sid, account: a.id, by: p.username, at: now(), db)
                t.pendingSecretId = sid
                t.newPasswordGiven = true
            }
            try t.insert(db)
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "queue_reset", resource: r.name, account: a.loginName,
                reason: reason, ticketId: ticketId, message: "task \(t.id)", resourceId: r.id, accountId: a.id), in: db)
            return t
        }
        taskSignal.poke()
        return task
    }

    func queueVerify(rid: String, aid: String, by p: Principal, ip: String) async throws -> TaskRecord {
        let task = try await store.write { db -> TaskRecord in
            let (r, a, _) = try Catalog.account(rid, aid, p, .readAccount, authorizer, db)
            try resetTarget(r, a, db).checkLoginName()
            if try resetUnderWay(a.id, db) {
                throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way; its own verify settles the account")
            }
            if try verifyUnderWay(a.id, db) {
                throw DomainError(.conflict, "verify_in_progress", "a verify of this account is already queued or running")
            }
            let t = try newTask(.verify, r, a, by: p.username, id: p.userID, reason: nil, ticketId: nil, db)
            try t.insert(db)
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "queue_verify", resource: r.name, account: a.loginName,
                message: "task \(t.id)", resourceId: r.id, accountId: a.id), in: db)
            return t
        }
        taskSignal.poke()
        return task
    }

    /// A queued task for `a` on `r`, asked for by a user (with its id) or by `schedule`/`expiry` (no id).
    func newTask(_ kind: TaskRecord.Kind, _ r: ResourceRecord, _ a: AccountRecord, by user: String, id userID: String? = nil,
        reason: String?, ticketId: String? = nil, _ db: Database) throws -> TaskRecord
    {
        let agent = try ResetConfig.stored(for: r.id, db)?.mode == .agent
        return TaskRecord(id: newID(), kind: kind, state: .queued, phase: .queued, via: agent ? "agent" : "agentless", resourceId: r.id, accountId: a.id,
            host: r.dnsName.lowercased(), requestedBy: user, requestedById: userID, newPasswordGiven: false, pendingSecretId: nil,
            attempts: 0, resultCode: nil, resultMessage: nil, reason: reason, ticketId: ticketId, createdAt: now(), startedAt: nil,
            finishedAt: nil, notBefore: 0)
    }

    /// Whether a reset of the account is queued, running or being reconciled (single flight).
    func resetUnderWay(_ accountID: String, _ db: Database) throws -> Bool { try TaskRecord.resetUnderWay(accountID, db) }

    /// Whether a verify of the account is queued or running (one at a time).
    func verifyUnderWay(_ accountID: String, _ db: Database) throws -> Bool {
        try TaskRecord.filter(Column("accountId") == accountID && Column("kind") == "verify"
            && ["queued", "running"].contains(Column("state"))).fetchCount(db) > 0
    }

    /// Refuses a change to the account (delete, local change) while a reset may be changing it.
    func refuseDuringReset(_ accountID: String, _ what: String, _ db: Database) throws {
        if try resetUnderWay(accountID, db) {
            throw DomainError(.conflict, "reset_in_progress", "a reset of this account is under way: \(what) waits until it has ended")
        }
    }

    /// Marks due tasks running: up to `limit` agentless ones and `agentLimit` agent ones (they only
    /// wait on their agent and hold no worker), skipping hosts at their limit and accounts that
    /// already have a task running (single flight). A verify found while a reset of its account
    /// is under way is cancelled: the reset's own verify settles the account.
    func claim(limit: Int, agentLimit: Int = 0, busyHosts: [String: Int]) async throws -> [TaskRecord] {
        guard limit > 0 || agentLimit > 0 else { return [] }
        let perHost = config.resetPerHostLimit
        let at = now()
        // The engine asks every tick; an idle server must not take the writer for nothing.
        let anyDue = try await store.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ?)",
                arguments: [at.seconds]) ?? false
        }
        guard anyDue else { return [] }
        return try await store.write { db in
            try cancelOutsideWindow(at, db)
            var counts = busyHosts
            var picked: [TaskRecord] = []
            var left = (agentless: limit, agent: agentLimit)
            var busy = Set(try String.fetchAll(db, sql: "SELECT accountId FROM tasks WHERE state = 'running'"))
            let resetting = Set(try String.fetchAll(db, sql: """
                SELECT accountId FROM tasks WHERE kind = 'reset' AND state IN ('queued', 'running', 'unknown')
                """))
            let due = try TaskRecord.fetchAll(db, sql: """
                SELECT * FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ? ORDER BY createdAt LIMIT 500
                """, arguments: [at.seconds])
            for var t in due where counts[t.host, default: 0] < perHost && !busy.contains(t.accountId) {
                if t.kind == .verify && resetting.contains(t.accountId) {
                    try cancelVerify(&t, at, db)
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
                t.startedAt = t.startedAt ?? at
                try t.update(db)
                picked.append(t)
            }
            return picked
        }
    }

    private func cancelVerify(_ t: inout TaskRecord, _ at: Date, _ db: Database) throws {
        t.end(.cancelled, code: "resetInProgress", message: "a reset of this account is under way; its own verify settles the account", at: at)
        try t.update(db)
    }

    /// A rotation's allowed-hours window closed before these tasks started: they are cancelled
    /// (and reported in the run), never started outside it.
    func cancelOutsideWindow(_ at: Date, _ db: Database) throws {
        let expired = try TaskRecord.fetchAll(db, sql: """
            SELECT * FROM tasks WHERE state = 'queued' AND phase = 'queued' AND notAfter IS NOT NULL AND notAfter <= ?
            """, arguments: [at.seconds])
        for var t in expired {
            if let sid = t.pendingSecretId { try secrets.discardPending(id: sid, db) }
            t.pendingSecretId = nil
            t.end(.cancelled, code: "windowClosed", message: "the rotation's allowed hours ended before this reset started", at: at)
            try t.update(db)
            try AuditLog.append(AuditEvent(user: t.requestedBy, ip: "server", operation: "remote_reset", outcome: "failure",
                message: "task \(t.id): windowClosed", resourceId: t.resourceId, accountId: t.accountId), in: db)
            var f = try accountFacts(.resetFailed, resourceId: t.resourceId, accountId: t.accountId, db)
            (f.user, f.status, f.reason, f.message) = (t.requestedBy, "failure", t.reason, "windowClosed: \(t.resultMessage ?? "")")
            try notify(f, accounts: [t.accountId], db)
        }
    }

    /// At start: a task cut short before touching the target goes back to the queue; one that may
    /// have touched it is reconciled.
    func recoverInterrupted() async throws -> Int {
        let machine = self.machine
        return try await store.write { db in
            var reconciled = 0
            for var t in try TaskRecord.filter(Column("state") == "running").fetchAll(db) {
                guard t.kind == .reset else {
                    t.state = .queued
                    try t.update(db)
                    continue
                }
                let (phase, action) = machine.next(t.phase, .interrupted, attempts: t.attempts, passwordGiven: t.newPasswordGiven)
                t.phase = phase
                if case .reconcile = action {
                    t.state = .unknown
                    t.notBefore = 0
                    reconciled += 1
                } else {
                    t.state = .queued
                }
                try t.update(db)
            }
            return reconciled
        }
    }
}
