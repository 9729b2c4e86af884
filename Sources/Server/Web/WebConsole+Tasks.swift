import Foundation
import Hummingbird

/// My tasks (PMP's notification icon) and one task's page, which refreshes itself until the task ends.
extension WebConsole {
    func tasks(_ web: RouterGroup<AppContext>) {
        web.get("/tasks") { request, _ in
            try await page(request) { v in
                // ?state=failed&all=1: the failed tasks of every account the caller can see (the start page links here).
                let q = request.uri.queryParameters
                let state = q.get("state").flatMap { TaskRecord.State(rawValue: String($0)) }
                let all = q.get("all") == "1"
                let after = q.get("after").flatMap { PageCursor(token: String($0)) }
                let found = try await custody.engine.tasks(by: v.principal, mine: !all, state: state, page: PageRequest(limit: 100, after: after))
                let tasks = found.items.map { ($0.task, $0.account, $0.resource) }
                let here = ["state": state?.rawValue ?? "", "all": all ? "1" : ""].filter { !$0.value.isEmpty }
                // The list refreshes itself while one of them runs (live status).
                var values: [String: Any] = ["nav": nav(v), "tasks": tasks.map { t, a, r in Self.taskValues(t, a, r) },
                    "title": all ? "Tasks" + (state.map { " (\($0.rawValue))" } ?? "") : "My tasks",
                    "more": found.next != nil, "paged": after != nil, "first": Self.link("/tasks", here),
                    "next": found.next.map { Self.link("/tasks", here.merging(["after": $0.token]) { $1 }) } ?? ""]
                if tasks.contains(where: { !$0.0.isFinished }) { values["running"] = true }
                return try render("tasks", values)
            }
        }
        web.get("/tasks/:tid") { request, ctx in
            try await page(request) { v in
                let named = try await custody.engine.task(try ctx.parameters.require("tid"), by: v.principal)
                let (t, a, r) = (named.task, named.account, named.resource)
                return try render("task", ["nav": nav(v), "task": Self.taskValues(t, a, r), "running": !t.isFinished])
            }
        }
    }

    static func taskValues(_ t: TaskRecord, _ a: AccountRecord?, _ r: ResourceRecord?) -> [String: Any] {
        ["id": t.id, "kind": t.kind.rawValue, "state": t.state.rawValue, "phase": t.phase.rawValue, "via": t.via,
            "account": a?.loginName ?? "an account you no longer see", "resource": r?.name ?? "-", "resourceId": t.resourceId, "accountId": t.accountId,
            "code": t.resultCode.map { $0 as Any } ?? false, "message": t.resultMessage ?? "", "createdAt": when(t.createdAt), "finishedAt": when(t.finishedAt),
            "succeeded": t.state == .succeeded, "failed": t.state == .failed]
    }
}
