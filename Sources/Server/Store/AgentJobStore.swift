import Foundation

/// Where an agent job is. Open: queued (waiting for its agent), offered (in a poll answer, not yet
/// taken) and leased (taken: the agent may be running it). The rest are ends.
enum AgentJobState: String, Sendable, Codable, CaseIterable {
    case queued, offered, leased, done, cancelled, expired, revoked

    static let open: [AgentJobState] = [.queued, .offered, .leased]
    /// Taken by the agent, or past it: the job's new password may have reached the target.
    var taken: Bool { [.leased, .done, .expired, .revoked].contains(self) }
}

/// One job for one agent, sealed to it.
struct AgentJobRow: Sendable, Equatable {
    var id: String
    var agentId: String
    var operation: String
    var encapsulatedKey: Data
    var ciphertext: Data
    var state: AgentJobState = .queued
    var leaseId: String? = nil
    var leaseExpiresAt: Date? = nil
    var result: String? = nil
    var createdAt: Date
    var queueDeadline: Date
}

/// What an agent's answer did.
enum AgentJobAcceptance: String, Sendable { case accepted, duplicate, refused }

/// The agent job queue's persistence. Every method is one transaction; every state change is a
/// compare-and-set on the job's current state, so racing callers cannot both move a job.
protocol AgentJobStore: Sendable {
    /// Queues `job` if its agent exists and is not revoked; false (nothing stored) otherwise.
    func enqueue(_ job: AgentJobRow) async throws -> Bool
    func job(_ id: String) async throws -> AgentJobRow?
    /// Applies the deadline that is due at `at`: queued past its queue deadline is cancelled, an
    /// offer past its lease goes back to the queue, a lease past its expiry is expired. Returns the
    /// job afterwards.
    func settle(_ id: String, at: Date) async throws -> AgentJobRow?
    /// Cancels the job if the agent has not taken it (queued or offered); true when it did.
    func withdraw(_ id: String) async throws -> Bool
    /// Offers up to `limit` of the agent's queued jobs, oldest first (then by id), each under a new lease id
    /// valid until `until`. Offers that lapsed before `at` (never taken) are queued again first.
    func offer(agentID: String, limit: Int, at: Date, until: Date) async throws -> [AgentJobRow]
    /// Takes an offer or extends a live lease (`at` not past it) to `until`; false otherwise.
    func renew(agentID: String, job: String, lease: String, at: Date, until: Date) async throws -> Bool
    /// Stores the answer of a leased job once; the same lease answering again is a duplicate.
    func accept(agentID: String, job: String, lease: String, result: String) async throws -> AgentJobAcceptance
    /// Ends open jobs past their deadline at `at` (a lease `grace` seconds past its expiry); with
    /// `all`, every open job. Returns the agent of each job it ended.
    func sweep(at: Date, grace: TimeInterval, all: Bool) async throws -> [String]
}
