import Foundation
import Hummingbird
import NIOCore

struct AccessRequestBody: APIBody {
    static let fields = ["reason", "minutes", "ticketId"]
    static let required = ["reason"]
    var reason: String
    var minutes: Int?
    var ticketId: String?
    func validate() throws {
        try Validate.text(reason, field: "reason", max: 1000)
        try Validate.number(minutes, field: "minutes", in: 1...AccessPolicy.maxMinutesLimit)
        try Validate.text(ticketId, field: "ticketId", max: 200)
    }
}

/// `approve`, `reject` (`comment`) and `checkin` (`reason`, required when forced); the body may be absent.
struct AccessStepBody: APIBody {
    static let fields = ["comment", "reason"]
    var comment: String?
    var reason: String?
    func validate() throws {
        try Validate.text(comment, field: "comment", max: 1000)
        try Validate.text(reason, field: "reason", max: 1000)
    }
}

extension Request {
    /// A JSON body when one is sent; an empty body (whatever its content type) is an empty object.
    mutating func decodeStepBody(limit: Int) async throws -> AccessStepBody {
        let buffer: ByteBuffer
        do { buffer = try await body.collect(upTo: limit) } catch {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than \(limit) bytes")
        }
        if buffer.readableBytes == 0 { return AccessStepBody() }
        guard headers[.contentType]?.lowercased().hasPrefix("application/json") == true else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: application/json")
        }
        return try Self.decodeStrict(AccessStepBody.self, from: Data(buffer.readableBytesView))
    }
}

extension Routes {
    func access(_ t: RouteTable) {
        let objects: [(path: String, what: String, object: @Sendable (AppContext) throws -> AccessObject)] = [
            ("/resources/:rid/accounts/:aid/access-control", "an account (its own rules, else inherited; with the holders now)",
                { ctx in AccessObject(scope: .account, id: try ctx.param("aid"), resourceId: try ctx.param("rid")) }),
            ("/resources/:rid/access-control", "a resource (the default of its accounts)", { ctx in AccessObject(scope: .resource, id: try ctx.param("rid")) }),
            ("/groups/:gid/access-control", "a group (the default of its resources' accounts)", { ctx in AccessObject(scope: .group, id: try ctx.param("gid")) }),
        ]
        for o in objects {
            t.add(.get, o.path, "The access-control rules of \(o.what)", response: .object(AccessPolicyView.self)) { _, ctx in
                try Reply.json(try await custody.access.policy(on: try o.object(ctx), by: try ctx.caller()))
            }
            t.add(.put, o.path, "Set the access-control rules of \(o.what) (administrators and password administrators with manage)",
                body: AccessPolicyBody.self, response: .object(AccessPolicyView.self)) { req, ctx in
                let p = try ctx.caller()
                let b = try await req.decodeStrict(AccessPolicyBody.self, limit: custody.config.maxBodyBytes)
                return try Reply.json(try await custody.access.setPolicy(b, on: try o.object(ctx), by: p, ip: ctx.remoteIP))
            }
            t.add(.delete, o.path, "Remove the rules set on \(o.what); it inherits again", response: .empty) { _, ctx in
                try await custody.access.clearPolicy(on: try o.object(ctx), by: try ctx.caller(), ip: ctx.remoteIP)
                return Reply.noContent()
            }
        }
        t.add(.post, "/resources/:rid/accounts/:aid/access-requests", "Ask for an account's password for a time (201: pending, or approved "
            + "when the rules approve it)", body: AccessRequestBody.self, response: .object(AccessRequestView.self)) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(AccessRequestBody.self, limit: custody.config.maxBodyBytes)
            let r = try await custody.access.request(rid: try ctx.param("rid"), aid: try ctx.param("aid"), reason: b.reason, minutes: b.minutes,
                ticketId: b.ticketId, by: p, ip: ctx.remoteIP)
            return try Reply.json(AccessRequestView(r), status: .created)
        }
        t.add(.get, "/access-requests", "Access requests, newest first: ?mine=true yours, ?awaiting=me those waiting for your approval; "
            + "else those you made or may decide (?state=, ?accountId=; paged: limit=, cursor=)", response: .list(AccessRequestView.self),
            query: QueryParam.paging() + [QueryParam("mine", .boolean, "true: only yours"), QueryParam("awaiting", .string, "me: waiting for your approval"),
                .choice("state", AccessRequestRecord.State.self), QueryParam("accountId")]) { req, ctx in
            let p = try ctx.caller()
            let q = ListParameters(req)
            guard let mine = ["true": true, "false": false][q.query["mine"] ?? "false"] else {
                throw APIError.badRequest("invalid_parameter", "mine must be true or false")
            }
            let awaiting = try q.word("awaiting", ["me"]) != nil
            let page = try await custody.access.list(mine: mine, awaiting: awaiting, state: try q.choice("state", AccessRequestRecord.State.self),
                accountId: try q.text("accountId"), try q.page(), by: p)
            return try Reply.page(page.map(AccessRequestView.init), req)
        }
        t.add(.get, "/access-requests/:qid", "One access request (its requester, approvers, and managers of the account)",
            response: .object(AccessRequestView.self)) { _, ctx in
            try Reply.json(AccessRequestView(try await custody.access.show(try ctx.param("qid"), by: try ctx.caller())))
        }
        let steps: [(name: String, summary: String)] = [
            ("approve", "Approve a request (an approver it names, not its requester; {comment})"),
            ("reject", "Reject a request (an approver it names; {comment})"),
            ("checkout", "Check the password out (the requester, once approved): it is yours alone until `until`"),
            ("checkin", "Give the password back (the holder), or take it back (an administrator, {reason}); a reset may follow ({taskId})"),
        ]
        for step in steps {
            t.add(.post, "/access-requests/:qid/\(step.name)", step.summary, body: AccessStepBody.self, response: .object(AccessRequestView.self)) {
                req, ctx in
                let p = try ctx.caller()
                let b = try await req.decodeStepBody(limit: custody.config.maxBodyBytes)
                let id = try ctx.param("qid")
                let a = custody.access
                let r: AccessRequestRecord
                switch step.name {
                case "approve": r = try await a.approve(id, comment: b.comment, by: p, ip: ctx.remoteIP)
                case "reject": r = try await a.reject(id, comment: b.comment, by: p, ip: ctx.remoteIP)
                case "checkout": r = try await a.checkout(id, by: p, ip: ctx.remoteIP)
                default: r = try await a.checkin(id, reason: b.reason ?? b.comment, by: p, ip: ctx.remoteIP)
                }
                return try Reply.json(AccessRequestView(r))
            }
        }
    }
}
