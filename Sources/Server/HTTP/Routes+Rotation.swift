import Foundation
import GRDB
import Hummingbird

/// A saved rotation as the API shows it.
struct RotationView: Codable, Sendable {
    var groupId: String
    var schedule: RotationSchedule
    var passwordChoice: RotationConfig.PasswordChoice
    var preNotify: RotationConfig.PreNotify?
    var postNotify: RotationConfig.PostNotify?
    var savedAt: Date
    var lastRunAt, nextRunAt: Date?

    init(_ r: SavedRotation) {
        groupId = r.groupId; schedule = r.config.schedule; passwordChoice = r.config.passwordChoice; preNotify = r.config.preNotify
        postNotify = r.config.postNotify; savedAt = r.savedAt; lastRunAt = r.lastRunAt; nextRunAt = r.nextRunAt
    }
}

/// A rotation run with each account's outcome, read live from its tasks.
struct RotationRunView: Codable, Sendable {
    struct Account: Codable, Sendable {
        var resourceId, accountId, resource, account, state: String
        var taskId, code, message: String?
    }
    struct Summary: Codable, Sendable { var total, succeeded, failed, skipped, pending: Int }
    var id, trigger, requestedBy, state: String
    /// nil for an integrity run.
    var groupId: String?
    var startedAt: Date
    var summary: Summary
    var accounts: [Account]
}

extension Routes {
    func rotation(_ t: RouteTable) {
        t.add(.put, "/groups/:gid/rotation", "Save a group's rotation schedule (manage)", body: RotationConfig.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(RotationConfig.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(RotationView(try await custody.rotations.save(b, for: try ctx.param("gid"), by: p, ip: ctx.remoteIP)))
        }
        t.add(.get, "/groups/:gid/rotation", "Show a group's rotation schedule and its next run") { _, ctx in
            try Reply.json(RotationView(try await custody.rotations.rotation(of: try ctx.param("gid"), by: try ctx.caller())))
        }
        t.add(.delete, "/groups/:gid/rotation", "Remove a group's rotation schedule (manage)") { _, ctx in
            try await custody.rotations.delete(for: try ctx.param("gid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/groups/:gid/rotation/run", "Rotate the group's passwords now (manage); 202 {runId}") { _, ctx in
            let p = try ctx.caller()
            let run = try await custody.store.write { db -> RotationRunRecord in
                let (g, _) = try Catalog.group(try ctx.param("gid"), p, .updateGroup, custody.authorizer, db)
                let config = try custody.rotation(g.id, db)?.config
                    ?? RotationConfig(schedule: RotationSchedule(kind: .never, at: "00:00"), passwordChoice: .unique)
                return try custody.startRotation(g, config: config, trigger: "manual", by: p.username, db)
            }
            return try Reply.json(["runId": run.id], status: .accepted)
        }
        t.add(.get, "/rotation-runs/:id", "A rotation run's progress and per-account results") { _, ctx in
            let p = try ctx.caller()
            let view = try await custody.store.read { db -> RotationRunView in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM rotationRuns WHERE id = ?", arguments: [try ctx.param("id")]) else {
                    throw APIError.notFound("rotation run")
                }
                _ = try Catalog.group(row["groupId"], p, .readGroup, custody.authorizer, db)
                return try Self.runView(row, scope: try ListScope.of(p, db), db)
            }
            return try Reply.json(view)
        }
    }

    /// `scope` keeps the accounts the caller may see; the summary counts only those.
    static func runView(_ row: Row, scope: ListScope? = nil, _ db: Database) throws -> RotationRunView {
        let entries = try JSONDecoder.api.decode([RotationRunRecord.Entry].self, from: Data((row["entries"] as String).utf8))
            .filter { scope?.sees(resourceId: $0.resourceId, accountId: $0.accountId) ?? true }
        var summary = RotationRunView.Summary(total: entries.count, succeeded: 0, failed: 0, skipped: 0, pending: 0)
        let accounts = try entries.map { e -> RotationRunView.Account in
            var a = RotationRunView.Account(resourceId: e.resourceId, accountId: e.accountId, resource: e.resource, account: e.account,
                state: "skipped", taskId: e.taskId, code: nil, message: e.skipped)
            guard let tid = e.taskId, let t = try TaskRecord.fetchOne(db, key: tid) else {
                summary.skipped += 1
                return a
            }
            a.state = t.state.rawValue
            a.code = t.resultCode
            a.message = t.resultMessage
            switch t.state {
            case .succeeded: summary.succeeded += 1
            case .failed, .cancelled: summary.failed += 1
            default: summary.pending += 1
            }
            return a
        }
        let group: String = row["groupId"]
        return RotationRunView(id: row["id"], trigger: row["trigger"], requestedBy: row["requestedBy"],
            state: summary.pending == 0 ? "finished" : "running", groupId: group.isEmpty ? nil : group, startedAt: Date(timeIntervalSince1970: row["startedAt"]),
            summary: summary, accounts: accounts)
    }
}
