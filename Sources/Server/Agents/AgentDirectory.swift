import Crypto
import Foundation
import Shared

/// Agent administration: the bundle with its one-time enrollment token, enrollment, the list of
/// agents, bindings (which agent serves which resource) and revocation. Binding hands an agent a
/// resource's passwords, so it takes an administrator who manages that resource. Authorization
/// is checked here, for the API and the console alike.
struct AgentDirectory: Sendable {
    struct Settings: Sendable {
        var enrollmentTokenDays = 7.0
        var scheduleInterval = 60.0
        /// The server's certificate, which the agent pins.
        var certificateFile = ""
    }

    let agents: any AgentStore
    let bindings: any AgentBindingStore
    let jobs: AgentJobService
    let authorizer: Authorizer
    let settings: Settings
    let now: @Sendable () -> Date

    /// Every agent with what it serves and what waits for approval.
    func list(by p: Principal) async throws -> [AgentView] { try await list(AgentFilter(), .all, by: p).items }

    /// One page of the agents, by host name, as `filter` keeps them; bindings are read for that page only.
    func list(_ filter: AgentFilter, _ page: PageRequest, by p: Principal) async throws -> Page<AgentView> {
        try authorizer.check(p, .manageSettings)
        let at = now()
        let found = try await agents.agents(filter, offlineBefore: at.addingTimeInterval(-3 * settings.scheduleInterval), page)
        let serving = try await bindings.serving(found.items)
        return found.map { a in
            var view = AgentView(a, now: at, interval: settings.scheduleInterval, bindings: serving[a.id]?.bound ?? [],
                pending: serving[a.id]?.pending ?? [])
            view.longPolling = jobs.hub.isPolling(a.id)
            return view
        }
    }

    /// An administrator who manages the resource binds it to the agent, audited. A resource
    /// another agent serves moves only with `move`.
    func bind(agentID: String, resourceID: String, move: Bool = false, by p: Principal, ip: String) async throws -> [String] {
        try authorizer.check(p, .manageSettings)
        let outcome: BindingOutcome
        do {
            outcome = try await bindings.bind(agentID: agentID, resourceID: resourceID, move: move, by: p, at: now(), check: Self.manages) {
                agent, r, before in
                AuditEvent(user: p.username, ip: ip, operation: "agent_binding_approved", resource: r.name,
                    message: "agent \(agent.id) on \(agent.hostname) serves \(r.name)"
                        + (before.map { $0 == agent.id ? " (already)" : " (was agent \($0))" } ?? ""), resourceId: r.id)
            }
        } catch let e as StoreError where e.code == .conflict {
            throw DomainError(.conflict, "already_bound", e.message)
        }
        switch outcome {
        case .bound(let resources): return resources
        case .noSuchAgent: throw DomainError.notFound("agent")
        case .agentRevoked: throw DomainError(.conflict, "agent_revoked", "a revoked agent cannot be bound")
        }
    }

    func unbind(agentID: String, resourceID: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        let removed = try await bindings.unbind(agentID: agentID, resourceID: resourceID, by: p, check: Self.manages,
            audit: AuditEvent(user: p.username, ip: ip, operation: "agent_binding_removed",
                message: "agent \(agentID) no longer serves resource \(resourceID)", resourceId: resourceID))
        guard removed else { throw DomainError.notFound("binding") }
    }

    /// Revokes the agent: refused from now on, its jobs ended at once.
    func revoke(_ id: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        let revoked = try await jobs.revoke(id) { a in
            AuditEvent(user: p.username, ip: ip, operation: "agent_revoked", message: "agent \(a.id) on \(a.hostname)")
        }
        guard revoked else { throw DomainError.notFound("agent") }
    }

    /// Binding needs manage on the resource, not merely seeing it.
    static let manages: BindingCheck = { r, have in
        guard let r, let have else { throw DomainError.notFound("resource") }
        guard have == .manage else { throw DomainError.forbidden("binding an agent to \(r.name) needs manage permission on it") }
    }
}

/// The filters of the agent list.
struct AgentFilter: Sendable {
    enum Status: String, Sendable, CaseIterable { case online, offline, revoked }
    /// Host names starting with this, whatever their case.
    var hostPrefix: String? = nil
    var status: Status? = nil
}
