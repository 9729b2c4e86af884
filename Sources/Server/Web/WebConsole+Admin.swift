import Foundation
import HTTPTypes
import Hummingbird

/// Agents (list, bundle download, bindings, revoke) through `AgentDirectory`; the integrity
/// report with its runs, and listeners with their approval, through the API's own routes.
extension WebConsole {
    func admin(_ web: RouterGroup<AppContext>) {
        web.get("/agents") { request, ctx in
            try await page(request) { v in try await agentsPage(v, ctx, after: Self.after(request), notice: Self.notice(request)) }
        }
        web.post("/agents/bundle") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                func given(_ key: String) -> String? { f[key].flatMap { $0.isEmpty ? nil : $0 } }
                let body = AgentPackageBody(os: f["os"] ?? "", resourceId: given("resourceId"), serverURL: given("serverURL"))
                do {
                    try body.validate()
                    let bundle = try await custody.agentDirectory.bundle(os: body.os, resourceId: body.resourceId,
                        serverURL: body.serverURL ?? custody.config.agentURL, by: v.principal, ip: ctx.remoteIP)
                    var headers = HTTPFields()
                    headers[.contentType] = "application/gzip"
                    headers[.contentDisposition] = "attachment; filename=\"custody-agent-\(body.os).tar.gz\""
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bundle.archive)))
                } catch let e as any APIFailure where e.status == .badRequest || e.status == .notFound {
                    return try await agentsPage(v, ctx, errors: ["bundle": e.message], status: .badRequest)
                }
            }
        }
        web.post("/agents/:id/revoke") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                try await custody.agentDirectory.revoke(try ctx.parameters.require("id"), by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/agents?notice=revoked")
            }
        }
        web.post("/agents/:id/unbind/:rid") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                try await custody.agentDirectory.unbind(agentID: try ctx.parameters.require("id"), resourceID: try ctx.parameters.require("rid"),
                    by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/agents?notice=unbound")
            }
        }
        web.post("/agents/:id/bind") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let body = BindingBody(resourceId: f["resourceId"] ?? "")
                try body.validate()
                _ = try await custody.agentDirectory.bind(agentID: try ctx.parameters.require("id"), resourceID: body.resourceId, by: v.principal,
                    ip: ctx.remoteIP)
                return Self.redirect("/agents?notice=bound")
            }
        }
        web.get("/integrity") { request, ctx in
            try await page(request) { v in
                let report = try Self.object(IntegrityReport(try await custody.integrity.report(by: v.principal)))
                let summary = report["summary"] as? [String: Any] ?? [:]
                let rows = (report["accounts"] as? [[String: Any]] ?? []).map { Self.strings($0) }
                return try render("integrity", ["nav": nav(v), "csrf": v.csrf, "summary": Self.strings(summary), "accounts": rows,
                    "admin": v.principal.role == .administrator])
            }
        }
        web.get("/integrity.csv") { request, ctx in
            try await page(request) { v in
                let csv = IntegrityReport.csv(try await custody.integrity.report(by: v.principal))
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"integrity.csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
            }
        }
        button(web, "/integrity/run") { _, v, _ in "/integrity/runs/\(try await custody.integrity.runNow(by: v.principal).id)" }
        web.get("/integrity/runs/:id") { request, ctx in
            try await page(request) { v in
                let run = try Self.object(try await custody.integrity.run(try ctx.parameters.require("id"), by: v.principal))
                return try runPage(v, run, title: "Integrity check", back: "/integrity")
            }
        }
        listeners(web)
    }

    func agentsPage(_ v: Visitor, _ ctx: AppContext, after: PageCursor? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let resources = try await custody.resources.resources(by: v.principal).map { ["id": $0.resource.id, "name": $0.resource.name] }
        let names = Dictionary(resources.map { ($0["id"] ?? "", $0["name"] ?? "") }) { a, _ in a }
        let found = try await custody.agentDirectory.list(AgentFilter(), PageRequest(limit: 100, after: after), by: v.principal)
        let agents = found.items.map { a -> [String: Any] in
            var row: [String: Any] = ["id": a.id, "hostname": a.hostname, "os": a.os, "arch": a.arch, "version": a.version, "status": a.status, "statusText": ConsoleWords.state(a.status),
                "enrolledAt": a.enrolledAt.formatted(.iso8601), "lastSeenAt": a.lastSeenAt.formatted(.iso8601)]
            if let rid = a.resourceId { row["resourceId"] = rid }
            if let r = a.revokedAt { row["revokedAt"] = r.formatted(.iso8601) } else { row["revocable"] = "yes" }
            func links(_ ids: [String]) -> [[String: String]] {
                ids.map { ["id": $0, "name": names[$0] ?? $0, "agent": a.id, "host": a.hostname, "csrf": v.csrf] }
            }
            row["bound"] = links(a.bindings)
            row["pending"] = links(a.pendingBindings)
            return row
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "agents": agents, "resources": resources, "errors": errors]
        values.merge(Self.pager("/agents", after: after, next: found.next)) { $1 }
        if let notice { values["notice"] = notice }
        return try render("agents", values, status: status)
    }

    /// A rotation or integrity run: its summary and per-account rows; it refreshes while running.
    func runPage(_ v: Visitor, _ run: [String: Any], title: String, back: String) throws -> Response {
        let summary = Self.strings(run["summary"] as? [String: Any] ?? [:])
        let accounts = (run["accounts"] as? [[String: Any]] ?? []).map { Self.strings($0) }
        let pending = Int(summary["pending"] ?? "0") ?? 0
        let done = ["succeeded", "failed", "skipped"].reduce(0) { $0 + (Int(summary[$1] ?? "0") ?? 0) }
        var values: [String: Any] = ["nav": nav(v), "title": title, "back": back, "run": Self.strings(run),
            "summary": summary.merging(["done": "\(done)"]) { a, _ in a },
            "accounts": accounts]
        if pending > 0 || (run["state"] as? String) == "running" { values["running"] = true }
        return try render("run", values)
    }

    /// A JSON object's scalar values as text, for templates (nested values are left out).
    static func strings(_ o: [String: Any]) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in o {
            switch v {
            case let s as String: out[k] = s
            case let n as NSNumber: out[k] = String(cString: n.objCType) == "c" ? (n.boolValue ? "yes" : "no") : n.stringValue
            default: continue
            }
        }
        if let s = out["status"] { out["statusText"] = ConsoleWords.state(s) }
        return out
    }
}
