import Foundation
import GRDB
import HTTPTypes
import Hummingbird

/// Resource groups: the list and a new group; a group's resources, rotation schedule, run-now
/// with its report, shares and deletion.
extension WebConsole {
    func groups(_ web: RouterGroup<AppContext>) {
        web.get("/groups") { request, ctx in
            try await page(request) { v in try await groupsPage(v, ctx, after: Self.after(request), notice: Self.notice(request)) }
        }
        web.post("/groups") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let policy = f["passwordPolicy"].flatMap { $0.isEmpty ? nil : $0 }
                let body = GroupBody(name: (f["name"] ?? "").trimmingCharacters(in: .whitespaces), passwordPolicy: policy)
                return try await attempt("group", fields: ["name"], redirect: "/groups", back: { e, s in try await groupsPage(v, ctx, errors: e, status: s) }) {
                    let id = try await custody.groups.create(body, by: v.principal, ip: ctx.remoteIP).group.id
                    return "/groups/\(id)?notice=created"
                }
            }
        }
        web.get("/groups/:gid") { request, ctx in
            try await page(request) { v in try await groupPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/groups/:gid/resources") { request, ctx in
            try await groupForm(request, ctx, "resources") { f, v, gid in
                let ids = f.keys.filter { $0.hasPrefix("r:") }.map { String($0.dropFirst(2)) }.sorted()
                _ = try await custody.groups.setResources(gid, ids, by: v.principal, ip: ctx.remoteIP)
                return "saved"
            }
        }
        web.post("/groups/:gid/rotation") { request, ctx in
            try await groupForm(request, ctx, "rotation") { f, v, gid in
                let config = try Request.decodeStrict(RotationConfig.self, from: try JSONSerialization.data(withJSONObject: try Self.rotationBody(f)))
                _ = try await custody.rotations.save(config, for: gid, by: v.principal, ip: ctx.remoteIP)
                return "saved"
            }
        }
        web.post("/groups/:gid/rotation/remove") { request, ctx in
            try await groupForm(request, ctx, "rotation") { _, v, gid in
                try await custody.rotations.delete(for: gid, by: v.principal, ip: ctx.remoteIP)
                return "removed"
            }
        }
        web.post("/groups/:gid/shares") { request, ctx in
            try await groupForm(request, ctx, "share") { f, v, gid in
                try await changeShares(.group(gid), f, v, ctx)
                return "shared"
            }
        }
        button(web, "/groups/:gid/run") { p, v, _ in
            "/groups/\(p["gid"]!)/runs/\(try await custody.rotationRuns.runNow(p["gid"]!, by: v.principal).id)"
        }
        web.get("/groups/:gid/runs/:id") { request, ctx in
            try await page(request) { v in
                let gid = try ctx.parameters.require("gid")
                let run = try Self.object(try await custody.rotationRuns.run(try ctx.parameters.require("id"), by: v.principal))
                return try runPage(v, run, title: "Rotation run", back: "/groups/\(gid)")
            }
        }
        web.post("/groups/:gid/delete") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                try await custody.groups.delete(try ctx.parameters.require("gid"), by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/groups?notice=deleted")
            }
        }
    }

    /// A group form: the call, then back to the group's page with a notice, or with the error by the form.
    func groupForm(_ request: Request, _ ctx: AppContext, _ name: String,
        _ call: @escaping ([String: String], Visitor, String) async throws -> String) async throws -> Response
    {
        try await page(request) { v in
            let f = try await form(request, v), gid = try ctx.parameters.require("gid")
            var done = ""
            return try await attempt(name, redirect: "/groups/\(gid)?notice=\(done)",
                back: { e, s in try await groupPage(v, ctx, errors: e, values: f, status: s) }) {
                done = try await call(f, v, gid)
                return nil
            }
        }
    }

    /// The rotation form as the API's RotationConfig.
    static func rotationBody(_ f: [String: String]) throws -> [String: Any] {
        var schedule: [String: Any] = ["kind": f["kind"] ?? "days", "at": f["at"] ?? ""]
        for key in ["date", "timeZone"] { if let x = f[key], !x.isEmpty { schedule[key] = x } }
        for key in ["everyDays", "dayOfMonth"] {
            guard let x = f[key], !x.isEmpty else { continue }
            guard let n = Int(x) else { throw APIError.badRequest("invalid_field", "field '\(key)' must be a whole number") }
            schedule[key] = n
        }
        if let from = f["windowFrom"], let to = f["windowTo"], !from.isEmpty || !to.isEmpty { schedule["allowedHours"] = ["from": from, "to": to] }
        return ["schedule": schedule, "passwordChoice": f["passwordChoice"] == "common" ? "common" : "unique"]
    }

    func groupsPage(_ v: Visitor, _ ctx: AppContext, after: PageCursor? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let found = try await custody.groups.groups(named: nil, PageRequest(limit: 100, after: after), visibleTo: v.principal)
        let groups = found.items.map { e in
            var row = ["id": e.group.id, "name": e.group.name, "owner": e.owner, "resources": "\(e.resourceIds.count)"]
            if let policy = e.group.passwordPolicy { row["passwordPolicy"] = policy }
            return row
        }
        let policies = try await custody.policies.policies(by: v.principal).map(\.name)
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "groups": groups, "policies": policies, "errors": errors]
        values.merge(Self.pager("/groups", after: after, next: found.next)) { $1 }
        if let notice { values["notice"] = notice }
        return try render("groups", values, status: status)
    }
}
