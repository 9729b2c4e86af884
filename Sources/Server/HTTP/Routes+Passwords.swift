import Foundation
import HTTPTypes
import Hummingbird
import Shared

struct PasswordSetBody: APIBody {
    static let fields = ["newPassword", "resetType", "reason", "ticketId"]
    static let required = ["resetType"]
    enum ResetType: String, Decodable, Sendable, CaseIterable { case local, remote }
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
struct PasswordAnswer: Codable {
    struct Candidate: Codable {
        let password: String
        /// What wrote it: "remote reset, task ID" (its state) or "remote reset".
        let origin: String
        let requestedBy: String
        let createdAt: Date
    }
    /// Absent when no password is known yet and only candidates are.
    let password: String?
    let candidates: [Candidate]

    init(_ r: Retrieved) {
        password = r.current?.reveal()
        candidates = r.candidates.map {
            Candidate(password: $0.secret.reveal(), origin: "remote reset" + ($0.taskId.map { ", task \($0)" } ?? ""),
                requestedBy: $0.createdBy, createdAt: $0.createdAt)
        }
    }
}

/// The answer to a password change: a local change is done; a remote one is a task to follow.
struct PasswordChangeAnswer: Codable, Sendable {
    /// local or remote.
    var resetType: String
    /// The remote reset's task.
    var taskId: String? = nil
    /// True once a local change is stored.
    var changed: Bool? = nil
}

/// `GET …/history`: the versions, the passwords only when revealed.
struct PasswordHistoryAnswer: Codable, Sendable {
    struct Version: Codable, Sendable {
        var id: String
        var current: Bool
        var createdAt: Date
        var by: String
        var how: String
        var ip: String?
        var taskId: String?
        var password: String?
    }
    var versions: [Version]

    init(_ versions: [PasswordVersion]) {
        self.versions = versions.map {
            Version(id: $0.id, current: $0.current, createdAt: $0.createdAt, by: $0.by, how: $0.how, ip: $0.ip, taskId: $0.taskId,
                password: $0.password?.reveal())
        }
    }
}

extension Routes {
    func passwords(_ t: RouteTable) {
        t.add(.get, "/resources/:rid/accounts/:aid/password", "Retrieve a password (audited; ?reason=&ticketId=)",
            response: .object(PasswordAnswer.self), query: [QueryParam("reason", .string, "why; required when the settings say so"), QueryParam("ticketId")]) { req, ctx in
            let p = try ctx.caller()
            let reason = req.uri.queryParameters.get("reason")
            let ticket = req.uri.queryParameters.get("ticketId")
            try Validate.text(reason, field: "reason", max: 1000)
            try Validate.text(ticket, field: "ticketId", max: 200)
            let got = try await custody.passwords.retrieve(rid: try ctx.param("rid"), aid: try ctx.param("aid"), by: p, reason: reason,
                ticketId: ticket, ip: ctx.remoteIP)
            var response = try Reply.json(PasswordAnswer(got))
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("Pragma")!] = "no-cache"
            return response
        }
        t.add(.get, "/resources/:rid/accounts/:aid/history", "The password's versions, newest first: when, who, how (created, local, remote reset, "
            + "rotation, expiry, check-in, share removal, reconcile) and from which address; ?reveal=true&reason= adds the passwords "
            + "(those who may retrieve the current one; audited)", response: .object(PasswordHistoryAnswer.self),
            query: [QueryParam("reveal", .choice(["true", "false"]), "include the passwords"), QueryParam("reason", .string, "why; required with reveal"),
                QueryParam("ticketId")]) { req, ctx in
            let p = try ctx.caller()
            let params = ListParameters(req)
            let reveal = try params.word("reveal", ["true", "false"]) == "true"
            let reason = req.uri.queryParameters.get("reason")
            let ticket = req.uri.queryParameters.get("ticketId")
            try Validate.text(reason, field: "reason", max: 1000)
            try Validate.text(ticket, field: "ticketId", max: 200)
            let versions = try await custody.passwords.history(rid: try ctx.param("rid"), aid: try ctx.param("aid"), by: p, reveal: reveal,
                reason: reason, ticketId: ticket, ip: ctx.remoteIP)
            var response = try Reply.json(PasswordHistoryAnswer(versions))
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("Pragma")!] = "no-cache"
            return response
        }
        t.add(.put, "/resources/:rid/accounts/:aid/password", "Change a password in the vault (local: 200 {changed, resetType}) or on the "
            + "target (remote: 202 {taskId, resetType})", body: PasswordSetBody.self, response: .object(PasswordChangeAnswer.self)) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(PasswordSetBody.self, limit: custody.config.maxBodyBytes)
            let rid = try ctx.param("rid"), aid = try ctx.param("aid")
            if b.resetType == .remote {
                let task = try await custody.engine.queueReset(rid: rid, aid: aid, by: p, newPassword: b.newPassword.map(Secret.init),
                    reason: b.reason, ticketId: b.ticketId, ip: ctx.remoteIP)
                return try Reply.json(PasswordChangeAnswer(resetType: "remote", taskId: task.id), status: .accepted)
            }
            try await custody.passwords.changeLocally(rid: rid, aid: aid, by: p, newPassword: b.newPassword.map(Secret.init), reason: b.reason,
                ticketId: b.ticketId, ip: ctx.remoteIP)
            return try Reply.json(PasswordChangeAnswer(resetType: "local", changed: true))
        }
    }
}
