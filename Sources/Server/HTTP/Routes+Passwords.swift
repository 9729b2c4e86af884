import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Shared

struct PasswordSetBody: APIBody {
    static let fields = ["newPassword", "resetType", "reason", "ticketId"]
    static let required = ["resetType"]
    enum ResetType: String, Decodable, Sendable { case local, remote }
    var newPassword: String?
    var resetType: ResetType
    var reason, ticketId: String?
    func validate() throws {
        if let newPassword { try Validate.password(newPassword, field: "newPassword") }
        try Validate.text(reason, field: "reason", max: 1000)
        try Validate.text(ticketId, field: "ticketId", max: 200)
    }
}

/// A password answer: the current one and, while a reset is unresolved, the candidates it may
/// have left on the target (retrieve them all; a verify settles which one works).
struct PasswordAnswer: Encodable {
    struct Candidate: Encodable {
        let password: String
        /// What wrote it: "remote reset, task ID" (its state) or "remote reset".
        let origin: String
        let requestedBy: String
        let createdAt: Date
    }
    let password: String
    let candidates: [Candidate]

    init(_ r: Custody.Retrieved) {
        password = r.current.reveal()
        candidates = r.candidates.map {
            Candidate(password: $0.secret.reveal(), origin: "remote reset" + ($0.taskId.map { ", task \($0)" } ?? ""),
                requestedBy: $0.createdBy, createdAt: $0.createdAt)
        }
    }
}

extension Routes {
    func passwords(_ t: RouteTable) {
        t.add(.get, "/resources/:rid/accounts/:aid/password", "Retrieve a password (audited; ?reason=&ticketId=)") { req, ctx in
            let p = try ctx.caller()
            let reason = req.uri.queryParameters.get("reason")
            let ticket = req.uri.queryParameters.get("ticketId")
            try Validate.text(reason, field: "reason", max: 1000)
            try Validate.text(ticket, field: "ticketId", max: 200)
            let got = try await custody.retrieve(rid: try ctx.param("rid"), aid: try ctx.param("aid"), by: p, reason: reason,
                ticketId: ticket, ip: ctx.remoteIP)
            var response = try Reply.json(PasswordAnswer(got))
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("Pragma")!] = "no-cache"
            return response
        }
        t.add(.put, "/resources/:rid/accounts/:aid/password", "Change a password in the vault (local) or on the target (remote)",
            body: PasswordSetBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(PasswordSetBody.self, limit: custody.config.maxBodyBytes)
            let rid = try ctx.param("rid"), aid = try ctx.param("aid")
            if b.resetType == .remote {
                let task = try await custody.queueReset(rid: rid, aid: aid, by: p, newPassword: b.newPassword.map(Secret.init),
                    reason: b.reason, ticketId: b.ticketId, ip: ctx.remoteIP)
                return try Reply.json(["taskId": task.id], status: .accepted)
            }
            try await custody.store.write { db in
                let (r, a, _) = try Catalog.account(rid, aid, p, .changePassword, custody.authorizer, db)
                try custody.refuseDuringReset(a.id, "a local change", db)
                let policy = try Catalog.effectivePolicy(for: r, db)
                let new: Secret
                if let given = b.newPassword {
                    new = Secret(given)
                    let problems = policy.violations(of: new, loginName: a.loginName)
                    if !problems.isEmpty {
                        throw APIError.badRequest("policy_violation", "the password breaks policy \(policy.name): \(problems.joined(separator: "; "))")
                    }
                } else {
                    do { new = try PasswordGenerator().generate(for: policy, loginName: a.loginName) } catch let error as PasswordGenerator.Failure {
                        throw APIError.badRequest("policy_unusable", error.description)
                    }
                }
                if policy.historyDepth > 0,
                    try custody.secrets.recent(account: a.id, depth: policy.historyDepth - 1, db).contains(new)
                {
                    throw APIError.badRequest("password_reused", "the password was used in the last \(policy.historyDepth) changes")
                }
                let old = try custody.secrets.current(account: a.id, db)
                try custody.secrets.setCurrent(new, account: a.id, by: p.username, at: custody.now(), keep: policy.historyDepth, db)
                try custody.queueListeners(r, a, old: old, new: new, trigger: "local change by \(p.username)", db)
                try db.execute(sql: "UPDATE accounts SET lastChangedAt = ? WHERE id = ?", arguments: [custody.now().seconds, a.id])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "change_password",
                    resource: r.name, account: a.loginName, reason: b.reason, ticketId: b.ticketId,
                    message: "local change" + (b.newPassword == nil ? " (generated)" : ""), resourceId: r.id, accountId: a.id), in: db)
                var f = NotificationFacts(.passwordChanged)
                (f.user, f.ip, f.resource, f.account, f.reason) = (p.username, ctx.remoteIP, r.name, a.loginName, b.reason)
                f.message = "Changed in the vault only (local change)."
                try custody.notify(f, accounts: [a.id], db)
            }
            struct Out: Encodable { let changed: Bool; let resetType: String }
            return try Reply.json(Out(changed: true, resetType: "local"))
        }
    }
}

extension Custody {
    /// Reads an account's current password for `p`: checked, with the reason rule, and audited
    /// (a refusal is audited too, outside the rolled-back transaction).
    func retrievePassword(rid: String, aid: String, by p: Principal, reason: String?, ticketId ticket: String?, ip: String) async throws -> Secret {
        try await retrieve(rid: rid, aid: aid, by: p, reason: reason, ticketId: ticket, ip: ip).current
    }

    /// The current password and, while a reset is unresolved, its candidates (audited as one retrieval).
    struct Retrieved: Sendable {
        let current: Secret
        let candidates: [SecretStore.Candidate]
    }

    func retrieve(rid: String, aid: String, by p: Principal, reason: String?, ticketId ticket: String?, ip: String) async throws -> Retrieved {
        do {
            return try await store.write { db -> Retrieved in
                let (r, a, _) = try Catalog.account(rid, aid, p, .retrievePassword, authorizer, db)
                if try Settings.get(Settings.requireReason, db) == "true", (reason ?? "").trimmingWhitespace.isEmpty {
                    throw APIError.badRequest("reason_required", "a reason is required to retrieve passwords")
                }
                guard let s = try secrets.current(account: a.id, db) else { throw APIError.notFound("password") }
                let candidates = try secrets.candidates(account: a.id, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password",
                    resource: r.name, account: a.loginName, reason: reason, ticketId: ticket,
                    message: candidates.isEmpty ? nil : "with \(candidates.count) candidate password(s) of an unresolved reset",
                    resourceId: r.id, accountId: a.id), in: db)
                return Retrieved(current: s, candidates: candidates)
            }
        } catch let denied as Authorizer.Denied {
            try await auditTrail.append(AuditEvent(user: p.username, ip: ip, operation: "retrieve_password",
                outcome: "denied", reason: reason, ticketId: ticket, message: denied.reason, resourceId: rid, accountId: aid))
            throw denied
        }
    }
}
