import Foundation
import GRDB
import Hummingbird

/// My tasks (PMP's notification icon) and one task's page, which refreshes itself until the task ends.
extension WebConsole {
    func tasks(_ web: RouterGroup<AppContext>) {
        web.get("/tasks") { request, _ in
            try await page(request) { v in
                let tasks = try await custody.store.read { db in
                    try TaskRecord.filter(Column("requestedById") == v.principal.userID).order(Column("createdAt").desc).limit(100).fetchAll(db)
                        .map { t in try named(t, v.principal, db) }
                }
                // The list refreshes itself while one of them runs (live status).
                var values: [String: Any] = ["nav": nav(v), "tasks": tasks.map { t, a, r in Self.taskValues(t, a, r) }]
                if tasks.contains(where: { !$0.0.isFinished }) { values["running"] = true }
                return try render("tasks", values)
            }
        }
        web.get("/tasks/:tid") { request, ctx in
            try await page(request) { v in
                let (t, a, r) = try await custody.store.read { db in
                    try named(try custody.task(try ctx.parameters.require("tid"), visibleTo: v.principal, db), v.principal, db)
                }
                return try render("task", ["nav": nav(v), "task": Self.taskValues(t, a, r), "running": !t.isFinished])
            }
        }
    }

    /// The task with its account and resource, named only while the caller may still see them (as the API would).
    func named(_ t: TaskRecord, _ p: Principal, _ db: Database) throws -> (TaskRecord, AccountRecord?, ResourceRecord?) {
        guard let r = try ResourceRecord.fetchOne(db, key: t.resourceId), let a = try AccountRecord.fetchOne(db, key: t.accountId),
            try Access.onAccount(a, resource: r, p, db) != nil
        else { return (t, nil, nil) }
        return (t, a, r)
    }

    static func taskValues(_ t: TaskRecord, _ a: AccountRecord?, _ r: ResourceRecord?) -> [String: Any] {
        ["id": t.id, "kind": t.kind.rawValue, "state": t.state.rawValue, "phase": t.phase.rawValue, "via": t.via,
            "account": a?.loginName ?? "an account you no longer see", "resource": r?.name ?? "-", "resourceId": t.resourceId, "accountId": t.accountId,
            "code": t.resultCode.map { $0 as Any } ?? false, "message": t.resultMessage ?? "", "createdAt": when(t.createdAt), "finishedAt": when(t.finishedAt),
            "succeeded": t.state == .succeeded, "failed": t.state == .failed]
    }
}
