import Foundation
import HTTPTypes
import Hummingbird

/// A group's page: its resources to tick, its rotation schedule, its recent runs and its shares.
extension WebConsole {
    func groupPage(_ v: Visitor, _ ctx: AppContext, errors: [String: String] = [:], values form: [String: String] = [:],
        notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let gid = try ctx.parameters.require("gid")
        let entry = try await custody.groups.group(gid, by: v.principal)
        let members = Set(entry.resourceIds)
        var group = ["id": entry.group.id, "name": entry.group.name, "owner": entry.owner]
        if let policy = entry.group.passwordPolicy { group["passwordPolicy"] = policy }
        let resources = try await custody.resources.resources(by: v.principal).map { e in
            var row = ["id": e.resource.id, "name": e.resource.name, "dnsName": e.resource.dnsName]
            if members.contains(e.resource.id) { row["member"] = "yes" }
            return row
        }
        var rotation: [String: String] = ["kind": "days", "at": "02:00", "everyDays": "30", "passwordChoice": "unique"]
        var scheduled: [String: String]? = nil
        do {
            // The saved schedule as the API shows it (the form's names are the API's).
            let view = try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(RotationView(try await custody.rotations.rotation(
                of: gid, by: v.principal)))) as? [String: Any] ?? [:]
            let schedule = view["schedule"] as? [String: Any] ?? [:]
            rotation = Self.strings(schedule).merging(Self.strings(view)) { a, _ in a }
            if let hours = schedule["allowedHours"] as? [String: Any] {
                rotation["windowFrom"] = hours["from"] as? String
                rotation["windowTo"] = hours["to"] as? String
            }
            scheduled = Self.strings(view)
        } catch let e as any APIFailure where e.status == .notFound {}
        for (k, x) in form where ["kind", "at", "date", "everyDays", "dayOfMonth", "timeZone", "windowFrom", "windowTo", "passwordChoice"].contains(k) {
            rotation[k] = x
        }
        let runs = try await custody.rotationRuns.list(group: gid, PageRequest(limit: 10), by: v.principal).items.map { run -> [String: String] in
            let s = run.summary
            return ["id": run.id, "trigger": run.trigger, "requestedBy": run.requestedBy, "startedAt": Self.when(run.startedAt),
                "result": "\(ConsoleWords.state(run.state)): \(s.succeeded) succeeded, \(s.failed) failed, \(s.skipped) skipped"
                    + (s.pending > 0 ? ", \(s.pending) to go" : "")]
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "group": group, "resources": resources,
            "rotation": rotation, "kinds": ["days", "monthly", "once", "never"].map { ["name": $0, "selected": $0 == (rotation["kind"] ?? "")] as [String: Any] },
            "common": rotation["passwordChoice"] == "common", "runs": runs, "errors": errors]
        if let scheduled { values["scheduled"] = scheduled }
        if let shares = try await shares(.group(gid), v) {
            values["shares"] = ["list": shares, "shareAction": "/groups/\(gid)/shares", "permissions": ["view", "modify", "manage"]] as [String: Any]
        }
        if let notice { values["notice"] = notice }
        return try render("group", values, status: status)
    }
}
