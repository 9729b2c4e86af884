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
        t.add(.get, "/rotation-runs/:id", "A rotation run's progress and per-account results", response: .object(RotationRunView.self)) { _, ctx in
            try Reply.json(try await custody.rotationRuns.run(try ctx.param("id"), by: try ctx.caller()))
        }
    }
}
