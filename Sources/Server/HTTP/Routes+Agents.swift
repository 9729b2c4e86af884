import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Shared

struct AgentPackageBody: APIBody {
    var os: String
    var arch: String?
    var resourceId: String?
    /// The URL agents use to reach this server; by default https:// and the request's Host.
    var serverURL: String?
    /// false leaves the agent binary out (it is distributed some other way).
    var includeBinary: Bool?
    static let fields = ["os", "arch", "resourceId", "serverURL", "includeBinary"]
    static let required = ["os"]
    func validate() throws {
        try Validate.word(os, field: "os", in: ["linux", "windows"])
        if let u = serverURL, !u.hasPrefix("https://") || u.contains(where: \.isWhitespace) {
            throw APIError.badRequest("invalid_field", "serverURL must be an https:// URL")
        }
    }
}

struct BindingBody: APIBody {
    static let fields = ["resourceId", "move"]
    static let required = ["resourceId"]
    var resourceId: String
    /// Take the resource from the agent that serves it now; without it such a binding is 409.
    var move: Bool?
    func validate() throws { try Validate.text(resourceId, field: "resourceId", max: 200) }
}

extension Routes {
    func agents(_ t: RouteTable) {
        t.add(.post, "/agent-packages", "An agent bundle (tar.gz) with a one-time enrollment token (administrators)", body: AgentPackageBody.self,
            response: .file("application/gzip")) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(AgentPackageBody.self, limit: custody.config.maxBodyBytes)
            // Never the request's Host header: whoever asks through a rewritten host would point agents elsewhere.
            let url = b.serverURL ?? custody.config.agentURL
            let bundle = try await custody.agentDirectory.bundle(os: b.os, resourceId: b.resourceId, serverURL: url,
                includeBinary: b.includeBinary ?? true, by: p, ip: ctx.remoteIP)
            var headers = HTTPFields()
            headers[.contentType] = "application/gzip"
            headers[.contentDisposition] = "attachment; filename=\"custody-agent-\(b.os).tar.gz\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bundle.archive)))
        }
        t.add(.get, "/agents", "Enrolled agents and whether they are online, by host name (administrators; ?name= host prefix, "
            + "status=online|offline|revoked; paged: limit=, cursor=)", response: .list(AgentView.self),
            query: QueryParam.paging() + [QueryParam("name", .string, "host names starting with this"), .choice("status", AgentFilter.Status.self)]) { req, ctx in
            let q = ListParameters(req)
            let filter = AgentFilter(hostPrefix: try q.text("name"), status: try q.choice("status", AgentFilter.Status.self))
            return try Reply.page(try await custody.agentDirectory.list(filter, try q.page(), by: try ctx.caller()), req)
        }
        t.add(.post, "/agents/:id/bindings", "Bind a resource to this agent: it serves it from now on (administrators)",
            body: BindingBody.self, response: .object([String: [String]].self)) { req, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageSettings)  // before the body is read; the service decides again
            let b = try await req.decodeStrict(BindingBody.self, limit: custody.config.maxBodyBytes)
            let bound = try await custody.agentDirectory.bind(agentID: try ctx.param("id"), resourceID: b.resourceId, move: b.move ?? false,
                by: try ctx.caller(), ip: ctx.remoteIP)
            return try Reply.json(["bindings": bound])
        }
        t.add(.delete, "/agents/:id/bindings/:rid", "Unbind a resource from this agent (administrators)", response: .empty) { _, ctx in
            try await custody.agentDirectory.unbind(agentID: try ctx.param("id"), resourceID: try ctx.param("rid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/agents/:id", "Revoke an agent: it is refused from now on and its queued jobs are cancelled (administrators)", response: .empty) { _, ctx in
            try await custody.agentDirectory.revoke(try ctx.param("id"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }

    /// `/agent/v1/*`: only agents call these; each request is signed (enrollment by the key it enrolls).
    func agentProtocol(_ g: RouterGroup<AppContext>) {
        g.post("/enroll") { req, _ -> Response in
            var req = req
            let body = try await custody.agentAuth.readAgentBody(&req)
            guard let e = try? JSONDecoder().decode(EnrollRequest.self, from: body) else {
                throw APIError.badRequest("malformed_json", "the body is not an enrollment request")
            }
            var headers: [String: String] = [:]
            for name in [AgentWire.timeHeader, AgentWire.nonceHeader, AgentWire.signatureHeader] {
                headers[name] = HTTPField.Name(name).flatMap { req.headers[$0] }
            }
            let agent = try await custody.agentDirectory.enroll(e, headers: headers, body: body, method: req.method.rawValue, path: req.uri.path)
            return try Reply.json(EnrollResponse(agentId: agent.id), status: .created)
        }
        g.post("/poll") { req, _ -> Response in
            var req = req
            let signed = try await custody.agentAuth.authenticateAgent(&req)
            guard let poll = try? JSONDecoder().decode(PollRequest.self, from: signed.body) else {
                throw APIError.badRequest("malformed_json", "the body is not a poll request")
            }
            let id = signed.agent.id
            if let accounts = poll.accounts { try await custody.accountSync.sync(signed.agent, accounts) }
            // The signal's generation is read before each queue read, so a job queued in between wakes the wait.
            let signal = custody.agentHub.signal(id)
            var seen = signal.current
            var jobs = try await custody.agentJobs.offer(id)
            if jobs.isEmpty && poll.wait > 0 {
                let deadline = ContinuousClock.now.advanced(by: .seconds(min(poll.wait, custody.config.agentLongPollSeconds)))
                let held = try await custody.agentHub.longPoll(id) {
                    // A wake that finds nothing (a job withdrawn, or a poke for another reason) waits on
                    // until the deadline: an empty answer would cost the agent its pause before the next poll.
                    while jobs.isEmpty && !Task.isShuttingDownGracefully && !Task.isCancelled {
                        let left = deadline - ContinuousClock.now
                        guard left > .zero else { break }
                        let since = seen
                        try? await cancelWhenGracefulShutdown { await signal.wait(after: since, timeout: left) }
                        seen = signal.current
                        jobs = try await custody.agentJobs.offer(id)
                    }
                }
                // Past the cap: come back later, at a time spread so a crowd does not return at once.
                guard held else {
                    throw APIError(.serviceUnavailable, "too_many_polls", "this server holds as many long polls as it may; poll again later",
                        retryAfter: Int.random(in: 5...30))
                }
            }
            try await custody.agentAuth.noteVersion(poll.version, of: signed.agent)
            return try Reply.json(PollResponse(jobs: jobs))
        }
        g.post("/jobs/:id/renew") { req, ctx -> Response in
            var req = req
            let signed = try await custody.agentAuth.authenticateAgent(&req)
            guard let lease = try? JSONDecoder().decode(LeaseRequest.self, from: signed.body) else {
                throw APIError.badRequest("malformed_json", "the body is not a lease request")
            }
            guard try await custody.agentJobs.renew(signed.agent.id, job: try ctx.param("id"), lease: lease.leaseId) else {
                throw APIError(.conflict, "lease_lost", "the lease is not current")
            }
            return try Reply.json(["leaseSeconds": Int(custody.config.agentLeaseSeconds)])
        }
        g.post("/jobs/:id/result") { req, ctx -> Response in
            var req = req
            let signed = try await custody.agentAuth.authenticateAgent(&req)
            guard let result = try? JSONDecoder().decode(ResultRequest.self, from: signed.body) else {
                throw APIError.badRequest("malformed_json", "the body is not a result")
            }
            switch try await custody.agentJobs.accept(signed.agent.id, job: try ctx.param("id"), result) {
            case .accepted: return try Reply.json(["status": "accepted"])
            case .duplicate: return try Reply.json(["status": "duplicate"])
            case .refused: throw APIError(.conflict, "lease_lost", "the job is not leased to this agent under this lease")
            }
        }
    }
}
