import Foundation

/// Enrolled agents, their last contact and the nonces of their signed requests.
protocol AgentStore: Sendable {
    func agent(_ id: String) async throws -> AgentRecord?
    /// Every agent, oldest enrollment first.
    func agents() async throws -> [AgentRecord]
    /// One page of the agents `filter` keeps, by host name whatever its case, then id; an agent is
    /// offline when its last contact is before `offlineBefore` (and it is not revoked).
    func agents(_ filter: AgentFilter, offlineBefore: Date, _ page: PageRequest) async throws -> Page<AgentRecord>
    /// Records an authenticated request: its nonce (dropping those before `pruneBefore`, when given)
    /// and the agent's last contact, in one transaction. False, and nothing changed, when the nonce
    /// is stored already: a replay, perhaps to another node sharing the store.
    @discardableResult
    func recordContact(agentID: String, nonce: String, at: Date, pruneBefore: Date?) async throws -> Bool
    /// Nonces seen since `since`, to refuse replays after a restart.
    func nonces(since: Date) async throws -> [(nonce: String, at: Date)]
    func setVersion(agentID: String, _ version: String) async throws
    /// Revokes the agent, ends its jobs (`AgentJobStore` semantics) and audits `event`, in one
    /// transaction. Nil when there is no such agent; revoking twice keeps the first time.
    func revoke(_ id: String, at: Date, audit event: @Sendable (AgentRecord) -> AuditEvent) async throws -> AgentRecord?
}

extension NamedListQuery {
    /// The agents of `status` (every agent when nil), as `AgentView` names them.
    static func agents(_ status: AgentFilter.Status?, offlineBefore: Date, _ dialect: ResourceListQuery.Dialect) -> NamedListQuery {
        var q = NamedListQuery("SELECT * FROM agents WHERE 1=1", name: "hostname", id: "id", dialect)
        let before = String(offlineBefore.timeIntervalSince1970)
        switch status {
        case nil: break
        case .revoked: q.and("revokedAt IS NOT NULL")
        case .offline: q.and("revokedAt IS NULL AND lastSeenAt < CAST(? AS DOUBLE PRECISION)", [before])
        case .online: q.and("revokedAt IS NULL AND lastSeenAt >= CAST(? AS DOUBLE PRECISION)", [before])
        }
        return q
    }
}
