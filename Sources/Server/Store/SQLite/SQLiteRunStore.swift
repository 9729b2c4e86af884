import Foundation
import GRDB
import Shared

/// `RunStore` on SQLite: tables `rotationRuns`, `integrityRuns` (entries as JSON), `rotations`,
/// `expiries` and `notificationMarks`; tasks and pending passwords as `SQLiteTaskStore` writes them.
struct SQLiteRunStore: RunStore {
    let db: DatabasePool
    let secrets: SecretStore
    let notices: SQLiteNotices
    /// Wakes the engine once a transaction that queued tasks has committed.
    let queued: @Sendable () -> Void

    func scheduledGroups() async throws -> [GroupRecord] {
        try await db.read { db in
            try GroupRecord.fetchAll(db, sql: "SELECT g.* FROM groups g JOIN rotations ro ON ro.groupId = g.id ORDER BY g.name")
        }
    }

    func startRotation(of groupID: String, trigger: String, by user: String, at: Date, ranAt: Date?, caller: Principal?,
        authorize: @Sendable (Permission) throws -> Void, due: @Sendable (SavedRotation?) -> Bool,
        plan: @Sendable (GroupRecord, RotationConfig?, [[RunCandidate]]) throws -> [RunStep],
        audit: @Sendable (GroupRecord, RotationRunRecord) -> AuditEvent) async throws -> RotationRunRecord?
    {
        try await db.write { db in
            guard let g = try GroupRecord.fetchOne(db, key: groupID) else { return nil }
            if let caller {
                guard let have = try Access.onGroup(g, caller, db) else { return nil }
                try authorize(have)
            }
            let saved = try SQLiteRotationStore.saved(g.id, db)
            guard due(saved) else { return nil }
            let resources = try ResourceRecord.fetchAll(db, sql: """
                SELECT r.* FROM resources r JOIN groupResources gr ON gr.resourceId = r.id
                JOIN resetConfigs c ON c.resourceId = r.id WHERE gr.groupId = ? ORDER BY r.name
                """, arguments: [g.id])
            let steps = try plan(g, saved?.config, try resources.map { try Self.candidates($0, db) })
            var run = RotationRunRecord(id: newID(), groupId: g.id, trigger: trigger, requestedBy: user, startedAt: at.seconds, entries: [])
            run.entries = try write(steps, rotationRun: run.id, integrityRun: nil, db)
            try db.execute(sql: "INSERT INTO rotationRuns(id, groupId, trigger, requestedBy, startedAt, entries) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [run.id, g.id, trigger, user, run.startedAt, String(decoding: try JSONEncoder.api.encode(run.entries), as: UTF8.self)])
            if let ranAt { try db.execute(sql: "UPDATE rotations SET lastRunAt = ? WHERE groupId = ?", arguments: [ranAt.seconds, g.id]) }
            try AuditLog.append(audit(g, run), in: db)
            return run
        }
    }

    func rotationFailed(_ groupID: String, at: Date, audit: AuditEvent) async throws {
        try await db.write { db in
            try AuditLog.append(audit, in: db)
            try db.execute(sql: "UPDATE rotations SET lastRunAt = ? WHERE groupId = ?", arguments: [at.seconds, groupID])
        }
    }

    func rotationRun(_ id: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationRunView? {
        try await db.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM rotationRuns WHERE id = ?", arguments: [id]),
                let g = try GroupRecord.fetchOne(db, key: row["groupId"] as String), let have = try Access.onGroup(g, p, db)
            else { return nil }
            try authorize(have)
            return try Self.view(row, scope: try ListScope.of(p, db), db)
        }
    }

    /// Queues each step's task (with its pending password) and returns the run's entries.
    func write(_ steps: [RunStep], rotationRun: String?, integrityRun: String?, _ db: Database) throws -> [RotationRunRecord.Entry] {
        var entries: [RotationRunRecord.Entry] = []
        for step in steps {
            var entry = step.entry
            if step.catchUp { try db.execute(sql: AccessRequestQuery.catchUp, arguments: [entry.accountId]) }
            if var t = step.task {
                t.rotationRunId = rotationRun
                t.integrityRunId = integrityRun
                if let given = step.pending, let sid = t.pendingSecretId {
                    try secrets.writePending(given, id: sid, account: t.accountId, by: t.requestedBy, at: t.createdAt, task: t.id, db)
                }
                try t.insert(db)
                entry.taskId = t.id
            }
            entries.append(entry)
        }
        if entries.contains(where: { $0.taskId != nil }) { db.afterNextTransaction { [queued] _ in queued() } }
        return entries
    }

    static func holder(_ accountID: String, _ db: Database) throws -> String? {
        try Row.fetchOne(db, sql: AccessRequestQuery.holder, arguments: [accountID]).map { AccessRequestQuery.holderText($0["requester"], $0["until"]) }
    }

    /// The accounts of a resource by login name, with what a run decides on.
    static func candidates(_ r: ResourceRecord, _ db: Database) throws -> [RunCandidate] {
        let policy = try Catalog.effectivePolicy(for: r, db)
        return try AccountRecord.filter(Column("resourceId") == r.id).order(Column("loginName")).fetchAll(db).map { a in
            RunCandidate(target: try SQLiteTaskStore.target(r, a, db), resetUnderWay: try TaskRecord.resetUnderWay(a.id, db),
                verifyUnderWay: try SQLiteTaskStore.verifyUnderWay(a.id, db), policy: policy,
                nothingToVerify: try Int.fetchOne(db, sql: "SELECT 1 FROM secrets WHERE accountId = ? AND state IN ('current', 'pending') LIMIT 1",
                    arguments: [a.id]) == nil, checkedOut: try holder(a.id, db))
        }
    }

    /// A run with each account's outcome read from its task; `scope` keeps what the caller may see.
    static func view(_ row: Row, scope: ListScope?, _ db: Database) throws -> RotationRunView {
        let group: String = row["groupId"]
        let id: String = row["id"]
        return try RotationRunView(id: id, trigger: row["trigger"], requestedBy: row["requestedBy"], groupId: group,
            startedAt: Date(timeIntervalSince1970: row["startedAt"]), entries: row["entries"], scope: scope,
            outcomes: try outcomes(group.isEmpty ? .integrity : .rotation, of: [id], db))
    }
}
