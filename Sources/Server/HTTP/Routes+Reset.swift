import Foundation
import Hummingbird
import Shared

/// A saved reset config: its fields, plus `warnings` when it sends passwords in clear or trusts
/// any certificate.
struct SavedResetConfig: Codable, Sendable {
    var config: ResetConfig
    var warnings: [String]

    private enum Keys: String, CodingKey { case warnings }

    init(config: ResetConfig, warnings: [String]) {
        self.config = config
        self.warnings = warnings
    }

    init(from decoder: any Decoder) throws {
        config = try ResetConfig(from: decoder)
        warnings = try decoder.container(keyedBy: Keys.self).decode([String].self, forKey: .warnings)
    }

    func encode(to encoder: any Encoder) throws {
        try config.encode(to: encoder)
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(warnings, forKey: .warnings)
    }
}

extension Routes {
    func reset(_ t: RouteTable) {
        t.add(.put, "/resources/:rid/reset-config", "Set how Custody reaches the target (manage); the saved config with its transport "
            + "warnings", body: ResetConfig.self, response: .object(SavedResetConfig.self)) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(ResetConfig.self, limit: custody.config.maxBodyBytes)
            let saved = try await custody.resetConfigs.save(body, for: try ctx.param("rid"), by: p, ip: ctx.remoteIP)
            return try Reply.json(SavedResetConfig(config: saved, warnings: saved.transportWarnings))
        }
        t.add(.get, "/resources/:rid/reset-config", "Show the reset configuration", response: .object(ResetConfig.self)) { _, ctx in
            try Reply.json(try await custody.resetConfigs.config(of: try ctx.param("rid"), by: try ctx.caller()))
        }
        t.add(.post, "/resources/:rid/accounts/:aid/verify", "Check the stored password on the target", body: nil, response: .object([String: String].self)) { _, ctx in
            let task = try await custody.engine.queueVerify(rid: try ctx.param("rid"), aid: try ctx.param("aid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return try Reply.json(["taskId": task.id], status: .accepted)
        }
        t.add(.get, "/tasks/:tid", "A task (?wait=N holds the answer up to N ≤ 60 seconds until it ends)", response: .object(TaskView.self)) { req, ctx in
            let p = try ctx.caller()
            let tid = try ctx.param("tid")
            var wait = 0.0
            if let w = req.uri.queryParameters.get("wait") {
                guard let n = Double(w), (0...60).contains(n) else { throw APIError.badRequest("invalid_parameter", "wait must be 0...60") }
                wait = n
            }
            let deadline = Date().addingTimeInterval(wait)
            // Woken by a committed change to the tasks, not by polling; the read follows the generation seen.
            while true {
                let seen = custody.taskChanged.current
                let task = try await custody.engine.task(tid, by: p).task
                let left = deadline.timeIntervalSinceNow
                if task.isFinished || left <= 0 { return try Reply.json(TaskView(task)) }
                await custody.taskChanged.wait(after: seen, timeout: .milliseconds(Int64(min(left, 60) * 1000)))
                try Task.checkCancellation()
            }
        }
        t.add(.post, "/tasks/:tid/abandon", "End a reset stuck in reconcile; its candidate stays retrievable (administrators)",
            body: AbandonBody.self, response: .object(TaskView.self)) { req, ctx in
            let b = try await req.decodeStrict(AbandonBody.self, limit: custody.config.maxBodyBytes)
            let task = try await custody.engine.abandon(try ctx.param("tid"), by: try ctx.caller(), reason: b.reason, ip: ctx.remoteIP)
            return try Reply.json(TaskView(task))
        }
        t.add(.get, "/tasks", "Your tasks, newest first (?state=; ?mine=false adds the tasks of every account you can see; "
            + "paged: limit=, cursor=)", response: .list(TaskView.self),
            query: QueryParam.paging() + [QueryParam("mine", .boolean, "false adds the tasks of every account you can see"),
                .choice("state", TaskRecord.State.self)]) { req, ctx in
            let p = try ctx.caller()
            let q = ListParameters(req)
            let state = try q.choice("state", TaskRecord.State.self)
            guard let mine = ["true": true, "false": false][q.query["mine"] ?? "true"] else {
                throw APIError.badRequest("invalid_parameter", "mine must be true or false")
            }
            let page = try await custody.engine.tasks(by: p, mine: mine, state: state, page: try q.page())
            return try Reply.page(page.map { TaskView($0.task) }, req)
        }
    }
}
