import Foundation
import HTTPTypes
import Hummingbird

/// Users and their roles (administrators), and the visitor's own API tokens (shown once).
extension WebConsole {
    static let roles = ["administrator", "passwordAdministrator", "passwordUser", "passwordAuditor"]

    func users(_ web: RouterGroup<AppContext>) {
        web.get("/users") { request, ctx in
            try await page(request) { v in try await usersPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/users") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                var body: [String: Any] = ["username": (f["username"] ?? "").trimmingCharacters(in: .whitespaces), "password": f["password"] ?? "",
                    "role": f["role"] ?? ""]
                if let email = f["email"], !email.isEmpty { body["email"] = email }
                let kept = f.filter { ["username", "role", "email"].contains($0.key) }
                return try await attempt("user", fields: ["username", "email"], redirect: "/users?notice=created",
                    back: { e, s in try await usersPage(v, ctx, errors: e, values: kept, status: s) }) {
                    _ = try await api.call(.post, "/users", json: body, as: v.principal, ctx)
                    return nil
                }
            }
        }
        web.post("/users/:uid/role") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                return try await attempt("role", redirect: "/users?notice=saved", back: { e, s in try await usersPage(v, ctx, errors: e, status: s) }) {
                    _ = try await api.call(.patch, "/users/:uid", ["uid": try ctx.parameters.require("uid")], json: ["role": f["role"] ?? ""],
                        as: v.principal, ctx)
                    return nil
                }
            }
        }
        web.post("/users/:uid/delete") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                return try await attempt("role", redirect: "/users?notice=deleted", back: { e, s in try await usersPage(v, ctx, errors: e, status: s) }) {
                    _ = try await api.call(.delete, "/users/:uid", ["uid": try ctx.parameters.require("uid")], as: v.principal, ctx)
                    return nil
                }
            }
        }
        web.get("/tokens") { request, ctx in
            try await page(request) { v in try await tokensPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/tokens") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                var body: [String: Any] = ["name": (f["name"] ?? "").trimmingCharacters(in: .whitespaces)]
                if let d = f["days"], !d.isEmpty {
                    guard let n = Int(d), (1...3650).contains(n) else {
                        return try await tokensPage(v, ctx, errors: ["token": "field 'days' must be a whole number from 1 to 3650"], status: .badRequest)
                    }
                    body["expiresAt"] = custody.now().addingTimeInterval(Double(n) * 86400).formatted(.iso8601)
                }
                do {
                    let created = try await api.call(.post, "/tokens", json: body, as: v.principal, ctx).object
                    return try await tokensPage(v, ctx, created: Self.strings(created))
                } catch let e as APIError where e.status == .badRequest || e.status == .conflict {
                    return try await tokensPage(v, ctx, errors: ["token": e.message], status: e.status)
                }
            }
        }
        button(web, "/tokens/:tid/revoke", .delete, "/tokens/:tid") { _, _ in "/tokens?notice=revoked" }
    }

    func usersPage(_ v: Visitor, _ ctx: AppContext, errors: [String: String] = [:], values: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let users = try await api.call(.get, "/users", as: v.principal, ctx).array.map { u in
            var row: [String: Any] = Self.strings(u)
            row["superAdmin"] = u["superAdmin"] as? Bool == true
            let role = row["role"] as? String
            return ["user": row, "roles": Self.roles.map { ["name": $0, "selected": $0 == role] },
                "me": (row["username"] as? String)?.lowercased() == v.principal.username.lowercased()] as [String: Any]
        }
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "users": users, "errors": errors, "form": values,
            "roles": Self.roles.map { ["name": $0, "selected": $0 == (values["role"] ?? "passwordUser")] }]
        if let notice { page["notice"] = notice }
        return try render("users", page, status: status)
    }

    func tokensPage(_ v: Visitor, _ ctx: AppContext, created: [String: String]? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let tokens = try await api.call(.get, "/tokens", as: v.principal, ctx).array.map { t in
            var row = Self.strings(t)
            if row["revokedAt"] == nil { row["active"] = "yes" }
            return row
        }
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "tokens": tokens, "errors": errors]
        if let created { page["created"] = created }
        if let notice { page["notice"] = notice }
        return try render("tokens", page, status: status)
    }
}
