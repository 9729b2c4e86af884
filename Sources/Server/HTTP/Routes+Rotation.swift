import Foundation
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

extension Routes {
    func rotation(_ t: RouteTable) {
        t.add(.put, "/groups/:gid/rotation", "Save a group's rotation schedule (manage)", body: RotationConfig.self, response: .object(RotationView.self)) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(RotationConfig.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(RotationView(try await custody.rotations.save(b, for: try ctx.param("gid"), by: p, ip: ctx.remoteIP)))
        }
        t.add(.get, "/groups/:gid/rotation", "Show a group's rotation schedule and its next run", response: .object(RotationView.self)) { _, ctx in
            try Reply.json(RotationView(try await custody.rotations.rotation(of: try ctx.param("gid"), by: try ctx.caller())))
        }
        t.add(.delete, "/groups/:gid/rotation", "Remove a group's rotation schedule (manage)", response: .empty) { _, ctx in
            try await custody.rotations.delete(for: try ctx.param("gid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/groups/:gid/rotation/run", "Rotate the group's passwords now (manage); 202 {runId}", response: .object([String: String].self)) { _, ctx in
            let run = try await custody.rotationRuns.runNow(try ctx.param("gid"), by: try ctx.caller())
            return try Reply.json(["runId": run.id], status: .accepted)
        }
        t.add(.get, "/rotation-runs", "Rotation runs of the groups you can see, newest first, with their counts over the accounts you "
            + "can see (?groupId=&trigger=manual|schedule; paged: limit= up to 100, cursor=)", response: .list(RunListItem.self),
            query: QueryParam.paging(max: RunListQuery.maxLimit) + [QueryParam("groupId", .string, "only this group's runs"),
                QueryParam("trigger", .choice(["manual", "schedule"]), "how the runs started")]) { req, ctx in
            let q = ListParameters(req)
            let trigger = try q.word("trigger", ["manual", "schedule"])
            let page = try await custody.rotationRuns.list(group: try q.text("groupId"), trigger: trigger, try q.page(max: RunListQuery.maxLimit),
                by: try ctx.caller())
            return try Reply.page(page, req)
        }
        t.add(.get, "/rotation-runs/:id", "A rotation run's progress and per-account results", response: .object(RotationRunView.self)) { _, ctx in
            try Reply.json(try await custody.rotationRuns.run(try ctx.param("id"), by: try ctx.caller()))
        }
    }
}
