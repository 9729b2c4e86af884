import Foundation
import Hummingbird

/// What the API shows of a listener; the script only on the single-listener read, for review.
struct ListenerView: Codable, Sendable {
    var id, name, kind, secretsVia, status, author, approver: String
    var resourceTypes, additionalParameters, warnings: [String]
    var executable, sha256, preCommand, approvedBy, script: String?
    var timeoutSeconds: Double
    var revision: Int
    var approvedAt: Date?
    var createdAt, updatedAt: Date
}

extension Routes {
    func listeners(_ t: RouteTable) {
        t.add(.post, "/listeners", "Add a listener or custom plugin; it waits for another administrator's approval",
            body: ListenerBody.self, response: .object(ListenerView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageListeners)
            let b = try await req.decodeStrict(ListenerBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.listeners.create(b, by: p, ip: ctx.remoteIP), status: .created)
        }
        t.add(.get, "/listeners", "List listeners and custom plugins (administrators)", response: .object([ListenerView].self)) { _, ctx in
            try Reply.json(try await custody.listeners.list(by: try ctx.caller()))
        }
        t.add(.get, "/listeners/:lid", "Show a listener with its script, for review", response: .object(ListenerView.self)) { _, ctx in
            try Reply.json(try await custody.listeners.show(try ctx.param("lid"), by: try ctx.caller()))
        }
        t.add(.put, "/listeners/:lid", "Edit a listener; it goes back to pendingApproval", body: ListenerBody.self, response: .object(ListenerView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageListeners)
            let b = try await req.decodeStrict(ListenerBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.listeners.update(try ctx.param("lid"), b, by: p, ip: ctx.remoteIP))
        }
        t.add(.post, "/listeners/:lid/approve",
            "Approve a listener revision (an administrator other than its author; ?revision=N: the one you reviewed)",
            response: .object(ListenerView.self), query: [QueryParam("revision", .integer(1...Int(Int32.max)), "the revision you reviewed")]) { req, ctx in
            try await Self.transition(custody, ctx, "approve", revision: try Self.revision(req))
        }
        t.add(.post, "/listeners/:lid/reject", "Reject a listener revision (an administrator other than its author)", response: .object(ListenerView.self),
            query: [QueryParam("revision", .integer(1...Int(Int32.max)))]) { req, ctx in
            try await Self.transition(custody, ctx, "reject", revision: try Self.revision(req))
        }
        t.add(.post, "/listeners/:lid/disable", "Disable a listener; it stops running at once", response: .object(ListenerView.self)) { _, ctx in
            try await Self.transition(custody, ctx, "disable")
        }
        t.add(.post, "/listeners/:lid/enable", "Ask to run a disabled listener again; it needs a new approval", response: .object(ListenerView.self)) { _, ctx in
            try await Self.transition(custody, ctx, "enable")
        }
        t.add(.delete, "/listeners/:lid", "Delete a listener", response: .empty) { _, ctx in
            try await custody.listeners.delete(try ctx.param("lid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }

    static func revision(_ req: Request) throws -> Int? {
        guard let text = req.uri.queryParameters.get("revision") else { return nil }
        guard let n = Int(text), n > 0 else { throw APIError.badRequest("invalid_field", "revision must be a positive number") }
        return n
    }

    /// The transitions that follow each listener action (the console's buttons use the same).
    static let actions: [String: (status: ListenerRecord.Status, operation: String, from: Set<ListenerRecord.Status>)] = [
        "approve": (.active, "approve_listener", [.pendingApproval, .rejected]),
        "reject": (.rejected, "reject_listener", [.pendingApproval]),
        "disable": (.disabled, "disable_listener", [.pendingApproval, .active, .rejected]),
        "enable": (.pendingApproval, "enable_listener", [.disabled]),
    ]

    static func transition(_ custody: Custody, _ ctx: AppContext, _ action: String, revision: Int? = nil) async throws -> Response {
        let step = actions[action]!
        return try Reply.json(try await custody.listeners.transition(try ctx.param("lid"), to: step.status, operation: step.operation,
            from: step.from, revision: revision, by: try ctx.caller(), ip: ctx.remoteIP))
    }
}
