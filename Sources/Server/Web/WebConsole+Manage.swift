import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Shared

/// Editing, deleting, sharing and transferring resources and accounts, and changing a password
/// locally or remotely. Each form calls the API's own route as the visitor.
extension WebConsole {
    func manage(_ web: RouterGroup<AppContext>) {
        let account = "/resources/:rid/accounts/:aid"
        web.post("/resources/:rid/edit") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), rid = try ctx.parameters.require("rid")
                let picked = Self.pick(f, ["name", "dnsName", "description", "department", "location"])
                let body = ResourcePatchBody(name: picked["name"], dnsName: picked["dnsName"], description: picked["description"],
                    department: picked["department"], location: picked["location"])
                return try await attempt("edit", fields: ["name", "dnsName", "description", "department", "location"],
                    redirect: "/resources/\(rid)?notice=saved",
                    back: { e, s in try await resourcePage(v, ctx, rid: rid, errors: e, values: f, status: s) }) {
                    _ = try await custody.resources.update(rid, body, by: v.principal, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post("/resources/:rid/delete") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                try await custody.resources.delete(try ctx.parameters.require("rid"), by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/resources?notice=deleted")
            }
        }
        web.post("/resources/:rid/owner") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), rid = try ctx.parameters.require("rid")
                return try await attempt("owner", redirect: "/resources/\(rid)?notice=transferred",
                    back: { e, s in try await resourcePage(v, ctx, rid: rid, errors: e, status: s) }) {
                    try await custody.resources.transfer(rid, to: f["username"] ?? "", by: v.principal, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post("/resources/:rid/shares") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), rid = try ctx.parameters.require("rid")
                return try await attempt("share", redirect: "/resources/\(rid)?notice=shared",
                    back: { e, s in try await resourcePage(v, ctx, rid: rid, errors: e, status: s) }) {
                    try await changeShares(.resource(rid), f, v, ctx)
                    return nil
                }
            }
        }
        web.post(RouterPath(account + "/edit")) { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), ids = try Self.ids(ctx)
                return try await attempt("edit", fields: ["description", "notes"], redirect: "\(Self.path(ids))?notice=saved",
                    back: { e, s in try await accountPage(v, ctx, revealed: nil, errors: e, status: s) }) {
                    let picked = Self.pick(f, ["description", "notes"])
                    _ = try await custody.accounts.update(ids["aid"]!, of: ids["rid"]!, AccountPatchBody(description: picked["description"],
                        notes: picked["notes"]), by: v.principal, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post(RouterPath(account + "/delete")) { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                let ids = try Self.ids(ctx)
                try await custody.accounts.delete(ids["aid"]!, of: ids["rid"]!, by: v.principal, ip: ctx.remoteIP)
                return Self.redirect("/resources/\(ids["rid"]!)?notice=deleted")
            }
        }
        web.post(RouterPath(account + "/shares")) { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), ids = try Self.ids(ctx)
                return try await attempt("share", redirect: "\(Self.path(ids))?notice=shared",
                    back: { e, s in try await accountPage(v, ctx, revealed: nil, errors: e, status: s) }) {
                    try await changeShares(.account(resource: ids["rid"]!, account: ids["aid"]!), f, v, ctx)
                    return nil
                }
            }
        }
        web.post(RouterPath(account + "/password")) { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v), ids = try Self.ids(ctx)
                var body: [String: Any] = ["resetType": f["mode"] == "remote" ? "remote" : "local"]
                if let n = f["newPassword"], !n.isEmpty { body["newPassword"] = n }
                if let r = f["reason"], !r.isEmpty { body["reason"] = r }
                return try await attempt("change", redirect: "\(Self.path(ids))?notice=changed",
                    back: { e, s in try await accountPage(v, ctx, revealed: nil, errors: e, status: s) }) {
                    let b = try Request.decodeStrict(PasswordSetBody.self, from: try JSONSerialization.data(withJSONObject: body))
                    let (rid, aid) = (ids["rid"]!, ids["aid"]!)
                    if b.resetType == .remote {
                        let task = try await custody.engine.queueReset(rid: rid, aid: aid, by: v.principal, newPassword: b.newPassword.map(Secret.init),
                            reason: b.reason, ticketId: b.ticketId, ip: ctx.remoteIP)
                        return "/tasks/\(task.id)"
                    }
                    try await custody.passwords.changeLocally(rid: rid, aid: aid, by: v.principal, newPassword: b.newPassword.map(Secret.init),
                        reason: b.reason, ticketId: b.ticketId, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.get(RouterPath(account + "/generate")) { request, ctx in
            try await page(request) { v in
                let ids = try Self.ids(ctx)
                let password = try await custody.passwords.generate(rid: ids["rid"]!, aid: ids["aid"]!, by: v.principal)
                return try Reply.json(["password": password.reveal()])
            }
        }
    }

    /// Adds or removes one share: reads the list, changes it, and puts it back.
    func changeShares(_ target: ShareTarget, _ f: [String: String], _ v: Visitor, _ ctx: AppContext) async throws {
        var list = try await custody.shares.shares(of: target, by: v.principal)
        let name = (f["name"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { throw DomainError.invalid("invalid_field", "field 'name' is required: a user name or a user group") }
        let isGroup = f["kind"] == "group"
        if isGroup { list.userGroups.removeAll { $0.name.lowercased() == name.lowercased() } } else {
            list.users.removeAll { $0.username.lowercased() == name.lowercased() }
        }
        if f["action"] != "remove" {
            guard let permission = Permission(rawValue: f["permission"] ?? "view") else {
                throw DomainError.invalid("invalid_field", "field 'permission' must be view, modify or manage")
            }
            if isGroup { list.userGroups.append(.init(name: name, permission: permission)) } else {
                list.users.append(.init(username: name, permission: permission))
            }
        }
        try await custody.shares.replace(target, with: list, by: v.principal, ip: ctx.remoteIP)
    }

    /// The shares of an object for its page, or nil when the visitor may not manage them.
    func shares(_ target: ShareTarget, _ v: Visitor) async throws -> [[String: String]]? {
        do {
            let list = try await custody.shares.shares(of: target, by: v.principal)
            return list.users.map { ["kind": "user", "kindLabel": "user", "name": $0.username, "permission": $0.permission.rawValue] }
                + list.userGroups.map { ["kind": "group", "kindLabel": "user group", "name": $0.name, "permission": $0.permission.rawValue] }
        } catch is Authorizer.Denied {
            return nil
        } catch let e as any APIFailure where e.status == .forbidden || e.status == .notFound {
            return nil
        }
    }

    /// Non-empty form fields among `keys`; an emptied text field is sent as "" (cleared).
    static func pick(_ f: [String: String], _ keys: [String]) -> [String: String] {
        var out: [String: String] = [:]
        for k in keys { if let v = f[k] { out[k] = v.trimmingCharacters(in: .whitespaces) } }
        return out
    }

    static func ids(_ ctx: AppContext) throws -> [String: String] {
        ["rid": try ctx.parameters.require("rid"), "aid": try ctx.parameters.require("aid")]
    }

    static func path(_ ids: [String: String]) -> String { "/resources/\(ids["rid"]!)/accounts/\(ids["aid"]!)" }

    static let notices = ["saved": "Saved.", "deleted": "Deleted.", "shared": "Shares saved.", "transferred": "Ownership transferred.",
        "changed": "Password changed in the vault.", "created": "Created.", "revoked": "Revoked.", "approved": "Approved.", "bound": "Bound: the agent serves that resource now.", "unbound": "Unbound.",
        "rejected": "Rejected.", "disabled": "Disabled.", "enabled": "Sent for approval again.", "removed": "Removed.",
        "enabled2fa": "Two-factor sign-in is on.", "disabled2fa": "Two-factor sign-in is off.",
        "requested": "Access requested: it waits for approval.", "granted": "Access approved: check the password out.",
        "queued": "Approved: it is yours once the current holder checks the password in.",
        "checkedOut": "Checked out: show the password now, and check it in when you are done.", "checkedIn": "Checked in.",
        "checkedInReset": "Checked in; the password is being reset (see My tasks)."]

    /// The fixed text of a `?notice=` key (never the query's own text).
    static func notice(_ request: Request) -> String? { request.uri.queryParameters.get("notice").flatMap { notices[$0] } }
}
