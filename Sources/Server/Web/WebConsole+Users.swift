import Foundation
import HTTPTypes
import Hummingbird

/// Users and their roles (administrators), and the visitor's own API tokens (shown once).
extension WebConsole {
    static let roles = ["administrator", "passwordAdministrator", "passwordUser", "passwordAuditor"]

    func users(_ web: RouterGroup<AppContext>) {
        web.get("/users") { request, ctx in
            try await page(request) { v in try await usersPage(v, ctx, after: Self.after(request), notice: Self.notice(request)) }
        }
        web.post("/users") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let kept = f.filter { ["username", "role", "email"].contains($0.key) }
                return try await attempt("user", fields: ["username", "email"], redirect: "/users?notice=created",
                    back: { e, s in try await usersPage(v, ctx, errors: e, values: kept, status: s) }) {
                    let email = f["email"].flatMap { $0.isEmpty ? nil : $0 }
                    let body = UserBody(username: (f["username"] ?? "").trimmingCharacters(in: .whitespaces), password: f["password"] ?? "",
                        role: try Self.role(f), email: email)
                    _ = try await custody.users.create(body, by: v.principal, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post("/users/:uid/role") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                return try await attempt("role", redirect: "/users?notice=saved", back: { e, s in try await usersPage(v, ctx, errors: e, status: s) }) {
                    _ = try await custody.users.update(try ctx.parameters.require("uid"), UserPatchBody(role: try Self.role(f)), by: v.principal,
                        ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post("/users/:uid/delete") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                return try await attempt("role", redirect: "/users?notice=deleted", back: { e, s in try await usersPage(v, ctx, errors: e, status: s) }) {
                    try await custody.users.delete(try ctx.parameters.require("uid"), by: v.principal, ip: ctx.remoteIP)
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
                var body = TokenBody(name: (f["name"] ?? "").trimmingCharacters(in: .whitespaces))
                if let d = f["days"], !d.isEmpty {
                    guard let n = Int(d), (1...3650).contains(n) else {
                        return try await tokensPage(v, ctx, errors: ["token": "field 'days' must be a whole number from 1 to 3650"], status: .badRequest)
                    }
                    body.expiresAt = custody.now().addingTimeInterval(Double(n) * 86400)
                }
                do {
                    try body.validate()
                    let new = try await custody.identity.createToken(v.principal, name: body.name, expiresAt: body.expiresAt, ip: ctx.remoteIP)
                    return try await tokensPage(v, ctx, created: ["id": new.record.id, "name": new.record.name, "token": new.token])
                } catch let e as any APIFailure where e.status == .badRequest || e.status == .conflict {
                    return try await tokensPage(v, ctx, errors: ["token": e.message], status: e.status)
                }
            }
        }
        web.post("/tokens/:tid/revoke") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                try await custody.identity.revokeToken(try ctx.parameters.require("tid"), by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/tokens?notice=revoked")
            }
        }
    }

    func usersPage(_ v: Visitor, _ ctx: AppContext, after: PageCursor? = nil, errors: [String: String] = [:], values: [String: String] = [:],
        notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let found = try await custody.users.users(named: nil, role: nil, PageRequest(limit: 100, after: after), by: v.principal)
        let users = found.items.map { u in
            var row: [String: Any] = ["id": u.id, "username": u.username, "role": u.role.rawValue, "superAdmin": u.superAdmin, "disabled": u.isDisabled, "directory": u.isDirectoryUser,
                "mustChangePassword": u.mustChangePassword ? "yes" : "no", "createdAt": u.createdAt.formatted(.iso8601)]
            if let email = u.email { row["email"] = email }
            return ["user": row, "roles": Self.roles.map { ["name": $0, "selected": $0 == u.role.rawValue] },
                "me": u.username.lowercased() == v.principal.username.lowercased()] as [String: Any]
        }
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "users": users, "errors": errors, "form": values,
            "roles": Self.roles.map { ["name": $0, "selected": $0 == (values["role"] ?? "passwordUser")] }]
        page.merge(Self.pager("/users", after: after, next: found.next)) { $1 }
        if let notice { page["notice"] = notice }
        return try render("users", page, status: status)
    }

    func tokensPage(_ v: Visitor, _ ctx: AppContext, created: [String: String]? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let tokens = try await custody.identity.apiTokens(v.principal).map { t in
            var row = ["id": t.id, "name": t.name, "kind": t.kind.rawValue, "createdAt": t.createdAt.formatted(.iso8601)]
            if let e = t.expiresAt { row["expiresAt"] = e.formatted(.iso8601) }
            if let r = t.revokedAt { row["revokedAt"] = r.formatted(.iso8601) } else { row["active"] = "yes" }
            return row
        }
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "tokens": tokens, "errors": errors]
        if let created { page["created"] = created }
        if let notice { page["notice"] = notice }
        return try render("tokens", page, status: status)
    }

    /// The form's role, as the API would read it.
    static func role(_ f: [String: String]) throws -> Role {
        guard let role = Role(rawValue: f["role"] ?? "") else { throw DomainError.invalid("invalid_field", "field 'role' is not valid") }
        return role
    }
}
