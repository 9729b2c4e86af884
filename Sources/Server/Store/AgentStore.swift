import Foundation

/// Enrolled agents, their last contact and the nonces of their signed requests.
protocol AgentStore: Sendable {
    func agent(_ id: String) async throws -> AgentRecord?
    /// Every agent, oldest enrollment first.
    func agents() async throws -> [AgentRecord]
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
