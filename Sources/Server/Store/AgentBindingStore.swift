import Foundation

/// What a caller may do with a resource they bind to an agent, decided on what is stored: the
/// resource (nil: none) and the caller's permission on it (`Access`; nil: they cannot see it).
typealias BindingCheck = @Sendable (_ resource: ResourceRecord?, _ permission: Permission?) throws -> Void

/// What a binding came to.
enum BindingOutcome: Sendable, Equatable {
    /// Bound: the resources the agent serves now.
    case bound([String])
    case noSuchAgent
    case agentRevoked
}

/// A one-time enrollment token, kept as its digest.
struct EnrollmentToken: Sendable, Equatable {
    var digest: String
    var os: String
    /// The resource the bundle was made for: the agent serves it once enrolled.
    var resourceId: String?
    var createdBy: String
    var createdAt: Date
    var expiresAt: Date
}

/// Which agent serves which resource (only what an administrator bound: the bundle's resource or
/// an approved binding; a host name never binds), enrollment tokens, and enrollment itself.
/// A resource has at most one agent. Every method is one transaction.
protocol AgentBindingStore: Sendable {
    /// The resources bound to the agent, oldest binding first.
    func bindings(of agentID: String) async throws -> [String]
    /// Resources in agent mode named like the agent's host but not bound to it: shown for an
    /// administrator to approve, never served. None for a revoked agent.
    func pendingBindings(of agent: AgentRecord) async throws -> [String]
    /// `bindings` and `pendingBindings` of each agent, read together (a page of the list).
    func serving(_ agents: [AgentRecord]) async throws -> [String: AgentServes]
    /// Binds the resource to the unrevoked agent, moving it from another agent only with `move`.
    /// `check` decides on the resource as stored, after the agent. A resource another agent serves,
    /// without `move`, is `StoreError.conflict` (its message names that agent). `audit` gets the
    /// agent that served it before, if any.
    func bind(agentID: String, resourceID: String, move: Bool, by p: Principal, at: Date, check: BindingCheck,
        audit: @Sendable (AgentRecord, ResourceRecord, _ before: String?) -> AuditEvent) async throws -> BindingOutcome
    /// Removes the binding once `check` accepts the resource; false when there was none.
    func unbind(agentID: String, resourceID: String, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws -> Bool
    /// Runs `check` on the resource as stored now (a read; the write that follows checks again).
    func check(resourceID: String, by p: Principal, _ check: BindingCheck) async throws
    /// Stores a token once `check` accepts its resource (when it names one).
    func addEnrollmentToken(_ token: EnrollmentToken, by p: Principal, check: BindingCheck, audit: AuditEvent) async throws
    /// Uses up the token with this digest and records the agent. The token's resource is bound to
    /// it (by the token's maker) only while the maker is still an administrator who manages that
    /// resource; else it waits for approval. `audit` is told whether it was bound. Nil when the
    /// token is unknown, used or expired at `at`; then nothing is stored.
    func enroll(_ agent: AgentRecord, tokenDigest: String, at: Date, audit: @Sendable (AgentRecord, _ bound: Bool) -> AuditEvent) async throws
        -> AgentRecord?
}

/// What an agent serves and what waits for an administrator to approve.
struct AgentServes: Sendable, Equatable {
    var bound: [String] = []
    var pending: [String] = []

    /// The SQL both stores run for `serving`: bindings of the agents, oldest first, then the
    /// resources in agent mode named like their hosts (`lower(dnsName)`, as `pendingBindings`).
    static func boundSQL(_ agents: Int) -> String {
        "SELECT agentId, resourceId FROM agentBindings WHERE agentId IN (\(NamedListQuery.marks(agents))) ORDER BY approvedAt"
    }

    static func candidatesSQL(_ hosts: Int) -> String {
        """
        SELECT lower(r.dnsName) AS host, r.id FROM resources r JOIN resetConfigs c ON c.resourceId = r.id
        WHERE lower(r.dnsName) IN (\(NamedListQuery.marks(hosts))) AND c.json LIKE '%"mode":"agent"%' ORDER BY r.name
        """
    }

    /// Each agent's answer from the rows of the two queries.
    static func assemble(_ agents: [AgentRecord], bound: [(agent: String, resource: String)], candidates: [(host: String, resource: String)])
        -> [String: AgentServes]
    {
        var byAgent: [String: [String]] = [:]
        for b in bound { byAgent[b.agent, default: []].append(b.resource) }
        var byHost: [String: [String]] = [:]
        for c in candidates { byHost[c.host, default: []].append(c.resource) }
        var out: [String: AgentServes] = [:]
        for a in agents {
            let mine = byAgent[a.id] ?? []
            let pending = a.revokedAt != nil ? [] : (byHost[a.hostname] ?? []).filter { !mine.contains($0) }
            out[a.id] = AgentServes(bound: mine, pending: pending)
        }
        return out
    }

    /// The hosts whose candidates count: those of agents not revoked.
    static func hosts(_ agents: [AgentRecord]) -> [String] { Array(Set(agents.filter { $0.revokedAt == nil }.map(\.hostname))).sorted() }
}
