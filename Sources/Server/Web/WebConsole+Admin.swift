import Foundation
import HTTPTypes
import Hummingbird

/// Agents (list, bundle download, revoke), the integrity report with its runs, and listeners
/// with their approval. Each page and form calls the API's own route as the visitor.
extension WebConsole {
    func admin(_ web: RouterGroup<AppContext>) {
        web.get("/agents") { request, ctx in
            try await page(request) { v in try await agentsPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/agents/bundle") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                var body: [String: Any] = ["os": f["os"] ?? ""]
                for key in ["resourceId", "serverURL"] { if let x = f[key], !x.isEmpty { body[key] = x } }
                do {
                    let reply = try await api.call(.post, "/agent-packages", json: body, as: v.principal, ctx)
                    var headers = HTTPFields()
                    headers[.contentType] = reply.headers[.contentType] ?? "application/gzip"
                    headers[.contentDisposition] = reply.headers[.contentDisposition] ?? "attachment"
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
                } catch let e as APIError where e.status == .badRequest || e.status == .notFound {
                    return try await agentsPage(v, ctx, errors: ["bundle": e.message], status: .badRequest)
                }
            }
        }
        button(web, "/agents/:id/revoke", .delete, "/agents/:id") { _, _ in "/agents?notice=revoked" }
        button(web, "/agents/:id/unbind/:rid", .delete, "/agents/:id/bindings/:rid") { _, _ in "/agents?notice=unbound" }
        web.post("/agents/:id/bind") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                _ = try await api.call(.post, "/agents/:id/bindings", ["id": try ctx.parameters.require("id")],
                    json: ["resourceId": f["resourceId"] ?? ""], as: v.principal, ctx)
                return Self.redirect("/agents?notice=bound")
            }
        }
        web.get("/integrity") { request, ctx in
            try await page(request) { v in
                let report = try await api.call(.get, "/reports/integrity", as: v.principal, ctx).object
                let summary = report["summary"] as? [String: Any] ?? [:]
                let rows = (report["accounts"] as? [[String: Any]] ?? []).map { Self.strings($0) }
                return try render("integrity", ["nav": nav(v), "csrf": v.csrf, "summary": Self.strings(summary), "accounts": rows,
                    "admin": v.principal.role == .administrator])
            }
        }
        web.get("/integrity.csv") { request, ctx in
            try await page(request) { v in
                let reply = try await api.call(.get, "/reports/integrity", query: ["format": "csv"], as: v.principal, ctx)
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"integrity.csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
            }
        }
        button(web, "/integrity/run", .post, "/integrity/run") { _, reply in "/integrity/runs/\(reply.object["runId"] as? String ?? "")" }
        web.get("/integrity/runs/:id") { request, ctx in
            try await page(request) { v in
                let run = try await api.call(.get, "/integrity-runs/:id", ["id": try ctx.parameters.require("id")], as: v.principal, ctx).object
                return try runPage(v, run, title: "Integrity check", back: "/integrity")
            }
        }
        listeners(web)
    }

    func agentsPage(_ v: Visitor, _ ctx: AppContext, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let resources = try await api.call(.get, "/resources", as: v.principal, ctx).array.map { Self.strings($0) }
        let names = Dictionary(resources.map { ($0["id"] ?? "", $0["name"] ?? "") }) { a, _ in a }
        let agents = try await api.call(.get, "/agents", as: v.principal, ctx).array.map { a -> [String: Any] in
            var row: [String: Any] = Self.strings(a)
            if a["revokedAt"] == nil || a["revokedAt"] is NSNull { row["revocable"] = "yes" }
            let agent = a["id"] as? String ?? "", host = a["hostname"] as? String ?? ""
            for key in ["bindings", "pendingBindings"] {
                row[key == "bindings" ? "bound" : "pending"] = (a[key] as? [String] ?? []).map { rid in
                    ["id": rid, "name": names[rid] ?? rid, "agent": agent, "host": host, "csrf": v.csrf]
                }
            }
            return row
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "agents": agents, "resources": resources, "errors": errors]
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
        return out
    }
}
