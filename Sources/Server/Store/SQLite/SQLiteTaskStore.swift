import Foundation
import GRDB
import Shared

/// `TaskStore` on SQLite: table `tasks`, pending passwords in `secrets` (`SecretStore`), notices
/// and listener runs queued in the same transactions.
struct SQLiteTaskStore: TaskStore {
    let db: DatabasePool
    let secrets: SecretStore
    let notices: SQLiteNotices
    let listeners: SQLiteListenerQueue

    func task(_ id: String) async throws -> TaskRecord? {
        try await db.read { db in try TaskRecord.fetchOne(db, key: id) }
    }

    func activeCount(requestedBy userID: String) async throws -> Int {
        try await db.read { db in
            try TaskRecord.filter(Column("requestedById") == userID && ["queued", "running"].contains(Column("state"))).fetchCount(db)
        }
    }

    func task(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> NamedTask? {
        try await db.read { db in
            guard let t = try TaskRecord.fetchOne(db, key: id) else { return nil }
            let seen = try SQLiteAccountStore.visible(t.accountId, t.resourceId, p, db)
            if t.requestedById != p.userID {
                guard let (_, _, have) = seen else { return nil }
                try authorize(have)
            }
            return NamedTask(task: t, account: seen?.1, resource: seen?.0)
        }
    }

    func run(resourceID: String, accountID: String, refs: @Sendable (ResetConfig?) -> [String]) async throws -> RunFacts {
        try await db.read { [secrets] db in
            guard let r = try ResourceRecord.fetchOne(db, key: resourceID), let a = try AccountRecord.fetchOne(db, key: accountID)
            else { throw DomainError.notFound("account") }
            let target = try Self.target(r, a, db)
            var named: [String: RunFacts.Named] = [:]
            for ref in refs(target.config) {
                let acc = try Catalog.accountRef(ref, on: r, db)
                named[ref] = RunFacts.Named(loginName: acc.loginName, secret: try secrets.current(account: acc.id, db))
            }
            return RunFacts(target: target, current: try secrets.current(account: a.id, db), named: named,
                policy: try Catalog.effectivePolicy(for: r, db))
        }
    }

    func queue(_ accountID: String, of resourceID: String, visibleTo p: Principal, withPolicy: Bool,
        authorize: @Sendable (Permission) throws -> Void, plan: @Sendable (TargetFacts, QueueFacts) throws -> (TaskRecord, Secret?),
        audit: @Sendable (TaskRecord, ResourceRecord, AccountRecord) -> AuditEvent) async throws -> TaskRecord?
    {
        try await db.write { [secrets] db in
            guard let (r, a, have) = try SQLiteAccountStore.visible(accountID, resourceID, p, db) else { return nil }
            try authorize(have)
            let facts = QueueFacts(resetUnderWay: try TaskRecord.resetUnderWay(a.id, db), verifyUnderWay: try Self.verifyUnderWay(a.id, db),
                policy: withPolicy ? try Catalog.effectivePolicy(for: r, db) : nil)
            let (t, given) = try plan(try Self.target(r, a, db), facts)
            if let given, let sid = t.pendingSecretId {
                try secrets.writePending(given, id: sid, account: a.id, by: t.requestedBy, at: t.createdAt, task: t.id, db)
            }
            try t.insert(db)
            try AuditLog.append(audit(t, r, a), in: db)
            return t
        }
    }

    func anyClaimable(_ request: ClaimRequest) async throws -> Bool {
        let full = request.busyHosts.filter { $0.value >= request.perHost }.map(\.key)
        let kinds = [request.limit > 0 ? "via != 'agent'" : nil, request.agentLimit > 0 ? "via = 'agent'" : nil].compactMap { $0 }
        guard !kinds.isEmpty else { return false }
        return try await db.read { db in
            try Bool.fetchOne(db, sql: """
                SELECT EXISTS (SELECT 1 FROM tasks WHERE state IN ('queued', 'unknown') AND notBefore <= ?
                  AND (\(kinds.joined(separator: " OR "))) AND host NOT IN (\(databaseQuestionMarks(count: max(full.count, 1))))
                  AND accountId NOT IN (SELECT accountId FROM tasks WHERE state = 'running'))
                """, arguments: StatementArguments([request.at.seconds] + (full.isEmpty ? [""] : full))) ?? false
        }
    }

    func hasWork() async throws -> Bool {
        try await db.read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tasks WHERE state IN ('queued', 'unknown'))") ?? false }
    }

    func recover(_ recover: @Sendable (TaskRecord) -> TaskRecord) async throws -> [TaskRecord] {
        try await db.write { db in
            try TaskRecord.filter(Column("state") == TaskRecord.State.running.rawValue).fetchAll(db).map { t in
                let r = recover(t)
                try r.update(db)
                return r
            }
        }
    }

    func save(_ write: TaskWrite) async throws {
        try await db.write { db in try apply(write, db) }
    }

    /// One node: a run's writes need no fence (`task` is for PostgreSQL's).
    func writePending(_ secret: Secret, id: String, account: String, by: String, at: Date, task: String) async throws {
        try await db.write { [secrets] db in try secrets.writePending(secret, id: id, account: account, by: by, at: at, task: task, db) }
    }

    func pending(_ id: String, account: String) async throws -> Secret? {
        try await db.read { [secrets] db in try secrets.pending(id: id, account: account, db) }
    }

    func dropPending(_ id: String, task: String) async throws {
        try await db.write { [secrets] db in try secrets.discardPending(id: id, db) }
    }

    func candidates(account: String) async throws -> [SecretStore.Candidate] {
        try await db.read { [secrets] db in try secrets.candidates(account: account, db) }
    }

    func dropCandidates(_ ids: [String], task: String, audit: AuditEvent) async throws {
        try await db.write { [secrets] db in
            for id in ids { try secrets.discardPending(id: id, db) }
            try AuditLog.append(audit, in: db)
        }
    }

    /// The target facts of an account, in the caller's transaction.
    static func target(_ r: ResourceRecord, _ a: AccountRecord, _ db: Database) throws -> TargetFacts {
        let config = try ResetConfig.stored(for: r.id, db)
        let agent = try boundAgent(r.id, db)
        let plugin = try String.fetchOne(db, sql: "SELECT plugin FROM resourceTypes WHERE name = ?", arguments: [r.type]) ?? "none"
        let custom = plugin.hasPrefix("external:")
            ? try ListenerRecord.filter(Column("name") == String(plugin.dropFirst(9))).fetchOne(db) : nil
        return TargetFacts(resource: r, account: a, config: config, agentID: agent, pluginID: plugin, customPlugin: custom)
    }

    /// The agent bound to the resource, unless revoked.
    static func boundAgent(_ resourceID: String, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: """
            SELECT a.id FROM agentBindings b JOIN agents a ON a.id = b.agentId WHERE b.resourceId = ? AND a.revokedAt IS NULL
            """, arguments: [resourceID])
    }

    static func verifyUnderWay(_ accountID: String, _ db: Database) throws -> Bool {
        try TaskRecord.filter(Column("accountId") == accountID && Column("kind") == "verify"
            && ["queued", "running"].contains(Column("state"))).fetchCount(db) > 0
    }
}
