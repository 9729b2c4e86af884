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
                    let r = try await custody.resources.create(b, by: v.principal, ip: ctx.remoteIP)
                    return Self.redirect("/resources/\(r.id)")
                } catch let e as any APIFailure where e.status == .badRequest || e.status == .conflict {
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
                    let a = try await custody.accountCreation.add(rid: rid, b, by: v.principal, ip: ctx.remoteIP)
                    return Self.redirect("/resources/\(rid)/accounts/\(a.id)")
                } catch let e as any APIFailure where e.status == .badRequest || e.status == .conflict {
                    return try await resourcePage(v, ctx, rid: rid, errors: ["account": e.message], status: e.status)
                }
            }
        }
        web.get("/resources/:rid/accounts/:aid") { request, ctx in
            try await page(request) { v in try await accountPage(v, ctx, revealed: nil, notice: Self.notice(request)) }
        }
        web.post("/resources/:rid/accounts/:aid/reveal") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let reason = f["reason"].flatMap { $0.isEmpty ? nil : $0 }
                try Validate.text(reason, field: "reason", max: 1000)
                do {
                    let got = try await custody.passwords.retrieve(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                        by: v.principal, reason: reason, ticketId: nil, ip: ctx.remoteIP)
                    return try await accountPage(v, ctx, revealed: got.current, candidates: got.candidates)
                } catch let e as any APIFailure where e.code == "reason_required" {
                    return try await accountPage(v, ctx, revealed: nil, errors: ["reason": e.message], status: .badRequest)
                } catch let e as any APIFailure where ["access_request_required", "checked_out"].contains(e.code) {
                    return try await accountPage(v, ctx, revealed: nil, errors: ["reveal": e.message], status: e.status)
                }
            }
        }
        web.post("/resources/:rid/accounts/:aid/history") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                let reason = f["historyReason"].flatMap { $0.isEmpty ? nil : $0 }
                try Validate.text(reason, field: "reason", max: 1000)
                do {
                    let versions = try await custody.passwords.history(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                        by: v.principal, reveal: true, reason: reason, ticketId: nil, ip: ctx.remoteIP)
                    return try await accountPage(v, ctx, revealed: nil, history: versions)
                } catch let e as any APIFailure where ["reason_required", "access_request_required", "checked_out", "forbidden"].contains(e.code) {
                    return try await accountPage(v, ctx, revealed: nil, errors: ["history": e.message], status: e.status)
                }
            }
        }
        web.post("/resources/:rid/accounts/:aid/reset") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                try Validate.text(f["reason"], field: "reason", max: 1000)
                let task = try await custody.engine.queueReset(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                    by: v.principal, newPassword: nil, reason: f["reason"].flatMap { $0.isEmpty ? nil : $0 }, ticketId: nil, ip: ctx.remoteIP)
                return Self.redirect("/tasks/\(task.id)")
            }
        }
        web.post("/resources/:rid/accounts/:aid/verify") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                let task = try await custody.engine.queueVerify(rid: try ctx.parameters.require("rid"), aid: try ctx.parameters.require("aid"),
                    by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/tasks/\(task.id)")
            }
        }
    }

    /// The field an API error names ("field 'dnsName' must ..."), for showing it next to that field.
    static func field(of e: any APIFailure, default fallback: String) -> String {
        guard let r = e.message.range(of: #"field '(\w+)'"#, options: .regularExpression) else { return fallback }
        return String(e.message[r].dropFirst(7).dropLast())
    }

    func newResourcePage(_ v: Visitor, values: [String: String], errors: [String: String], status: HTTPResponse.Status = .ok) async throws
        -> Response
    {
        let types = try await custody.policies.resourceTypes(by: v.principal).map(\.name).sorted { $0.lowercased() < $1.lowercased() }
        return try render("resource-new", ["nav": nav(v), "csrf": v.csrf, "values": values, "errors": errors,
            "types": types.map { ["name": $0, "selected": $0 == (values["type"] ?? "Linux")] }], status: status)
    }

    func accountPage(_ v: Visitor, _ ctx: AppContext, revealed: Secret?, candidates: [SecretStore.Candidate] = [], history: [PasswordVersion]? = nil,
        errors: [String: String] = [:], notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let ids = try Self.ids(ctx), p = v.principal
        let (rid, aid) = (ids["rid"]!, ids["aid"]!)
        let a = try await custody.accounts.account(aid, of: rid, by: p)
        let r = try await custody.resources.resource(rid, by: p).resource
        let allowed = try await custody.accounts.allowed([.changePassword, .updateAccount, .deleteAccount], on: aid, of: rid, by: p)
        let can = ["change": allowed.contains(.changePassword), "edit": allowed.contains(.updateAccount), "delete": allowed.contains(.deleteAccount)]
        let requireReason = try await custody.policies.passwordSettings().requireReason
        let policy = try await custody.passwords.policy(rid: rid, aid: aid, by: p)
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": ["id": r.id, "name": r.name],
            "account": ["id": a.id, "loginName": a.loginName, "description": a.description ?? "", "notes": a.notes ?? "",
                "syncStatus": a.syncStatus.rawValue, "syncStatusText": ConsoleWords.state(a.syncStatus.rawValue), "lastVerifiedAt": Self.when(a.lastVerifiedAt), "lastChangedAt": a.lastChangedAt == nil ? "never: the password is unknown until its first reset" : Self.when(a.lastChangedAt)],
            "hideAfter": custody.config.webRevealSeconds, "requireReason": requireReason, "errors": errors, "can": can,
            "policy": ["name": policy.name, "rules": Self.describe(policy)], "base": Self.path(ids)]
        if let revealed { values["revealed"] = revealed.reveal() }
        if !candidates.isEmpty {
            values["hasCandidates"] = true
            if revealed == nil { values["onlyCandidates"] = true }
            values["candidates"] = candidates.enumerated().map { i, c in
                ["password": c.secret.reveal(), "index": i, "origin": "remote reset" + (c.taskId.map { ", task \($0)" } ?? ""),
                    "createdBy": c.createdBy, "createdAt": Self.when(c.createdAt)] as [String: Any]
            }
        }
        if let notice { values["notice"] = notice }
        var versions = history ?? []
        if history == nil {
            versions = try await custody.passwords.history(rid: rid, aid: aid, by: p, reveal: false, reason: nil, ticketId: nil, ip: ctx.remoteIP)
        }
        values["history"] = versions.map { h -> [String: Any] in
            var row: [String: Any] = ["when": Self.when(h.createdAt), "how": h.how, "by": h.by, "ip": h.ip ?? "–", "current": h.current]
            if let pw = h.password { row["password"] = pw.reveal() }
            return row
        }
        values["hasHistory"] = !versions.isEmpty
        values["historyRevealed"] = history != nil
        values["access"] = try await accessCard(v, rid: rid, aid: aid)
        if let shares = try await shares(.account(resource: ids["rid"]!, account: ids["aid"]!), v) {
            values["shares"] = ["list": shares, "shareAction": Self.path(ids) + "/shares", "permissions": ["view", "modify"]] as [String: Any]
        }
        return try render("account", values, status: status)
    }

    /// A policy's rules in words, as shown beside the change form.
    static func describe(_ p: PasswordPolicy) -> [String] {
        var rules = ["\(p.minLength) to \(p.maxLength) characters"]
        if p.requireMixedCase { rules.append("upper and lower case") }
        if p.requireDigits { rules.append("a digit") }
        if p.minSpecial > 0 { rules.append("at least \(p.minSpecial) of \(String(PasswordPolicy.specials))") }
        if p.firstCharLetter { rules.append("starts with a letter") }
        if p.forbidLoginName { rules.append("does not contain the login name") }
        if p.historyDepth > 0 { rules.append("not one of the last \(p.historyDepth)") }
        return rules
    }

    static func when(_ d: Date?) -> String { d.map { $0.formatted(.iso8601) } ?? "never" }
}
