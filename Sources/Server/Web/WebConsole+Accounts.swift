import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Shared

/// Adding resources and accounts, an account's page, revealing its password, and queueing a
/// remote reset or a verify (both lead to the task's page).
extension WebConsole {
    func accounts(_ web: RouterGroup<AppContext>) {
        web.get("/resources/new") { request, _ in
            try await page(request) { v in
                try custody.authorizer.check(v.principal, .createResource)
                return try await newResourcePage(v, values: [:], errors: [:])
            }
        }
        web.post("/resources") { request, ctx in
            try await page(request) { v in
                try custody.authorizer.check(v.principal, .createResource)
                let f = try await form(request, v)
                let b = ResourceBody(name: f["name"] ?? "", dnsName: f["dnsName"] ?? "", type: f["type"] ?? "",
                    description: f["description"].flatMap { $0.isEmpty ? nil : $0 })
                do {
                    try b.validate()
                    let r = try await custody.createResource(b, by: v.principal, ip: ctx.remoteIP)
                    return Self.redirect("/resources/\(r.id)")
                } catch let e as APIError where e.status == .badRequest || e.status == .conflict {
                    return try await newResourcePage(v, values: f, errors: [Self.field(of: e, default: "name"): e.message], status: e.status)
                }
            }
        }
        web.post("/resources/:rid/accounts") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let rid = try ctx.parameters.require("rid")
                let b = AccountBody(loginName: f["loginName"] ?? "", password: f["password"] ?? "",
                    description: f["description"].flatMap { $0.isEmpty ? nil : $0 })
                do {
                    try b.validate()
                    let a = try await custody.addAccount(rid: rid, b, by: v.principal, ip: ctx.remoteIP)
                    return Self.redirect("/resources/\(rid)/accounts/\(a.id)")
                } catch let e as APIError where e.status == .badRequest || e.status == .conflict {
                    return try await resourcePage(v, rid: rid, accountError: e.message, status: e.status)
                }
            }
        }
        web.get("/resources/:rid/accounts/:aid") { request, ctx in
            try await page(request) { v in try await accountPage(v, ctx, revealed: nil) }
        }
        web.post("/resources/:rid/accounts/:aid/reveal") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let reason = f["reason"].flatMap { $0.isEmpty ? nil : $0 }
                try Validate.text(reason, field: "reason", max: 1000)
                do {
                    let secret = try await custody.retrievePassword(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                        by: v.principal, reason: reason, ticketId: nil, ip: ctx.remoteIP)
                    return try await accountPage(v, ctx, revealed: secret)
                } catch let e as APIError where e.code == "reason_required" {
                    return try await accountPage(v, ctx, revealed: nil, reasonError: e.message, status: .badRequest)
                }
            }
        }
        web.post("/resources/:rid/accounts/:aid/reset") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                try Validate.text(f["reason"], field: "reason", max: 1000)
                let task = try await custody.queueReset(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                    by: v.principal, newPassword: nil, reason: f["reason"].flatMap { $0.isEmpty ? nil : $0 }, ticketId: nil, ip: ctx.remoteIP)
                return Self.redirect("/tasks/\(task.id)")
            }
        }
        web.post("/resources/:rid/accounts/:aid/verify") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                let task = try await custody.queueVerify(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                    by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/tasks/\(task.id)")
            }
        }
    }

    /// The field an API error names ("field 'dnsName' must ..."), for showing it next to that field.
    static func field(of e: APIError, default fallback: String) -> String {
        guard let r = e.message.range(of: #"field '(\w+)'"#, options: .regularExpression) else { return fallback }
        return String(e.message[r].dropFirst(7).dropLast())
    }

    func newResourcePage(_ v: Visitor, values: [String: String], errors: [String: String], status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let types = try await custody.store.read { db in try String.fetchAll(db, sql: "SELECT name FROM resourceTypes ORDER BY name") }
        return try render("resource-new", ["nav": nav(v), "csrf": v.csrf, "values": values, "errors": errors,
            "types": types.map { ["name": $0, "selected": $0 == (values["type"] ?? "Linux")] }], status: status)
    }

    func accountPage(_ v: Visitor, _ ctx: AppContext, revealed: Secret?, reasonError: String? = nil, status: HTTPResponse.Status = .ok)
        async throws -> Response
    {
        let rid = try ctx.parameters.require("rid"), aid = try ctx.parameters.require("aid")
        let (r, a, requireReason) = try await custody.store.read { db in
            let (r, a, _) = try Catalog.account(rid, aid, v.principal, .readAccount, custody.authorizer, db)
            return (r, a, try Settings.get(Settings.requireReason, db) == "true")
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": ["id": r.id, "name": r.name],
            "account": ["id": a.id, "loginName": a.loginName, "description": a.description ?? "", "syncStatus": a.syncStatus.rawValue,
                "lastVerifiedAt": Self.when(a.lastVerifiedAt), "lastChangedAt": Self.when(a.lastChangedAt)],
            "hideAfter": custody.config.webRevealSeconds, "requireReason": requireReason]
        if let revealed { values["revealed"] = revealed.reveal() }
        if let reasonError { values["reasonError"] = reasonError }
        return try render("account", values, status: status)
    }

    static func when(_ d: Date?) -> String { d.map { ISO8601DateFormatter().string(from: $0) } ?? "never" }
}
