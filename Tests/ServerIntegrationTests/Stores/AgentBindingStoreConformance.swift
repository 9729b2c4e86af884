import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AgentBindingStore` must do: a resource has at most one agent and moves
/// only when asked; nothing binds a revoked agent; the caller's permission is decided on what is
/// stored and a refusal stores nothing; a token enrolls once, before it expires, and binds its
/// resource; a host name only ever proposes a binding.
@Suite struct AgentBindingStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = Principal(userID: "u-ana", username: "ana", role: .administrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    static let manages: BindingCheck = { r, have in
        guard r != nil, have == .manage else { throw DomainError.forbidden("needs manage") }
    }
    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "ana", ip: "test", operation: op) }

    func backend(_ name: String) async throws -> StoreBackend {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        try await b.addAgent(StoreBackend.agent("a-1", host: "web01", at: Self.t0))
        try await b.addAgent(StoreBackend.agent("a-2", host: "web02", at: Self.t0))
        try await b.addAgent(StoreBackend.agent("a-old", at: Self.t0, revoked: Self.t0))
        return b
    }

    func bind(_ b: StoreBackend, _ agent: String, _ rid: String, move: Bool = false, check: @escaping BindingCheck = manages) async throws
        -> BindingOutcome
    {
        try await b.agentBindings.bind(agentID: agent, resourceID: rid, move: move, by: Self.ana, at: Self.t0, check: check) { a, r, before in
            AuditEvent(user: "ana", ip: "test", operation: "agent_binding_approved", message: "\(a.id) \(r.id) \(before ?? "-")")
        }
    }

    @Test(arguments: StoreBackend.names("agentBindings"))
    func aResourceHasOneAgentAndMovesOnlyWhenAsked(_ name: String) async throws {
        let b = try await backend(name)
        let mine = try await b.ownResource("u-ana"), theirs = try await b.ownResource("u-bo")
        #expect(try await bind(b, "a-none", mine) == .noSuchAgent)
        #expect(try await bind(b, "a-old", mine) == .agentRevoked)
        await #expect { _ = try await bind(b, "a-1", theirs) } throws: { ($0 as? DomainError)?.kind == .forbidden }
        #expect(try await bind(b, "a-1", mine) == .bound([mine]))
        await #expect { _ = try await bind(b, "a-2", mine) } throws: { ($0 as? StoreError)?.code == .conflict && "\($0)".contains("a-1") }
        #expect(try await b.agentBindings.bindings(of: "a-1") == [mine], "unchanged")
        #expect(try await bind(b, "a-2", mine, move: true) == .bound([mine]))
        #expect(try await b.agentBindings.bindings(of: "a-1").isEmpty)
        #expect(try await b.auditOperations().filter { $0 == "agent_binding_approved" }.count == 2)
    }

    @Test(arguments: StoreBackend.names("agentBindings"))
    func anUnbindingIsCheckedAndAuditedOnce(_ name: String) async throws {
        let b = try await backend(name)
        let mine = try await b.ownResource("u-ana")
        _ = try await bind(b, "a-1", mine)
        await #expect { _ = try await b.agentBindings.unbind(agentID: "a-1", resourceID: mine, by: Self.ana,
            check: { _, _ in throw DomainError.forbidden("no") }, audit: Self.event("agent_binding_removed")) } throws: { $0 is DomainError }
        #expect(try await b.agentBindings.bindings(of: "a-1") == [mine])
        #expect(try await b.agentBindings.unbind(agentID: "a-1", resourceID: mine, by: Self.ana, check: Self.manages,
            audit: Self.event("agent_binding_removed")))
        #expect(try await b.agentBindings.unbind(agentID: "a-1", resourceID: mine, by: Self.ana, check: Self.manages,
            audit: Self.event("agent_binding_removed")) == false)
        #expect(try await b.auditOperations().filter { $0 == "agent_binding_removed" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("agentBindings"))
    func aTokenEnrollsOnceBeforeItExpiresAndBindsItsResource(_ name: String) async throws {
        let b = try await backend(name)
        let mine = try await b.ownResource("u-ana"), theirs = try await b.ownResource("u-bo")
        let token = EnrollmentToken(digest: "d-1", os: "linux", resourceId: mine, createdBy: "ana", createdAt: Self.t0,
            expiresAt: Self.t0.addingTimeInterval(3600))
        await #expect { try await b.agentBindings.addEnrollmentToken(EnrollmentToken(digest: "d-x", os: "linux", resourceId: theirs, createdBy: "ana",
            createdAt: Self.t0, expiresAt: Self.t0.addingTimeInterval(3600)), by: Self.ana, check: Self.manages, audit: Self.event("agent_package")) }
            throws: { $0 is DomainError }
        await #expect { try await b.agentBindings.check(resourceID: theirs, by: Self.ana, Self.manages) } throws: { $0 is DomainError }
        try await b.agentBindings.check(resourceID: mine, by: Self.ana, Self.manages)
        try await b.agentBindings.addEnrollmentToken(token, by: Self.ana, check: Self.manages, audit: Self.event("agent_package"))
        let fresh = StoreBackend.agent("a-new", host: "db01", at: Self.t0)
        let audit: @Sendable (AgentRecord, Bool) -> AuditEvent = { _, bound in Self.event(bound ? "agent_enrolled" : "agent_enrolled_unbound") }
        #expect(try await b.agentBindings.enroll(fresh, tokenDigest: "d-none", at: Self.t0, audit: audit) == nil)
        #expect(try await b.agentBindings.enroll(fresh, tokenDigest: "d-1", at: Self.t0.addingTimeInterval(3600), audit: audit) == nil, "expired")
        try await b.setRole("u-ana", .administrator)
        let enrolled = try await b.agentBindings.enroll(fresh, tokenDigest: "d-1", at: Self.t0.addingTimeInterval(60), audit: audit)
        #expect(enrolled?.resourceId == mine)
        #expect(try await b.agentBindings.bindings(of: "a-new") == [mine], "bound by its maker, an administrator who manages it")
        #expect(try await b.agentBindings.enroll(StoreBackend.agent("a-again", at: Self.t0), tokenDigest: "d-1", at: Self.t0, audit: audit) == nil,
            "used")
        #expect(try await b.agents.agent("a-again") == nil)
        #expect(try await b.auditOperations().filter { ["agent_package", "agent_enrolled"].contains($0) } == ["agent_package", "agent_enrolled"])
        // A maker who is no longer an administrator binds nothing: the resource waits for approval.
        try await b.agentBindings.addEnrollmentToken(EnrollmentToken(digest: "d-2", os: "linux", resourceId: mine, createdBy: "ana",
            createdAt: Self.t0, expiresAt: Self.t0.addingTimeInterval(3600)), by: Self.ana, check: Self.manages, audit: Self.event("agent_package"))
        try await b.setRole("u-ana", .passwordAdministrator)
        let later = try await b.agentBindings.enroll(StoreBackend.agent("a-later", host: "db02", at: Self.t0), tokenDigest: "d-2", at: Self.t0,
            audit: audit)
        #expect(later?.resourceId == mine)
        #expect(try await b.agentBindings.bindings(of: "a-later").isEmpty)
        #expect(try await b.agentBindings.bindings(of: "a-new") == [mine], "the resource stays with the agent an administrator bound")
        #expect(try await b.auditOperations().contains("agent_enrolled_unbound"))
    }

    @Test(arguments: StoreBackend.names("agentBindings"))
    func aHostNameOnlyProposesABinding(_ name: String) async throws {
        let b = try await backend(name)
        let r = try await b.ownResource("u-ana")
        try await b.agentMode(r, "web01")
        let agent = try #require(try await b.agents.agent("a-1"))
        #expect(try await b.agentBindings.pendingBindings(of: agent) == [r])
        #expect(try await b.agentBindings.bindings(of: "a-1").isEmpty, "proposed, not bound")
        _ = try await bind(b, "a-1", r)
        #expect(try await b.agentBindings.pendingBindings(of: agent).isEmpty)
        #expect(try await b.agentBindings.pendingBindings(of: try #require(try await b.agents.agent("a-old"))).isEmpty, "none for a revoked agent")
    }
}
