import Foundation
import GRDB

/// Agent jobs nobody waits on any more: revoked agents' jobs, jobs past their deadline, and at
/// start-up every job a stopped server left (no task waits on it: its reset reconciles).
extension Custody {
    /// Revocation: jobs the agent has not taken are cancelled; a job it holds is `revoked`, so the
    /// task waiting on it ends at once as outcome unknown and reconciles.
    func cancelAgentJobs(agentID: String, _ db: Database) throws {
        try db.execute(sql: """
            UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'revoked' ELSE 'cancelled' END, ciphertext = x''
            WHERE agentId = ? AND state IN ('queued', 'offered', 'leased')
            """, arguments: [agentID])
    }

    /// Ends jobs past their deadline (queued too long, or a lease that ran out); at start-up
    /// (`all`), every job not ended. Returns how many ended.
    @discardableResult
    func sweepAgentJobs(all: Bool = false) async throws -> Int {
        let at = now().seconds
        let ended = try await store.write { db -> Int in
            if all {
                try db.execute(sql: """
                    UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'expired' ELSE 'cancelled' END, ciphertext = x''
                    WHERE state IN ('queued', 'offered', 'leased')
                    """)
                return db.changesCount
            }
            try db.execute(sql: "UPDATE agentJobs SET state = 'cancelled', ciphertext = x'' WHERE state = 'queued' AND queueDeadline < ?",
                arguments: [at])
            var n = db.changesCount
            try db.execute(sql: """
                UPDATE agentJobs SET state = CASE WHEN state = 'leased' THEN 'expired' ELSE 'cancelled' END, ciphertext = x''
                WHERE state IN ('offered', 'leased') AND leaseExpiresAt < ? - ?
                """, arguments: [at, config.agentLeaseSeconds])
            n += db.changesCount
            return n
        }
        if ended > 0 { agentHub.jobEnded.poke() }
        return ended
    }
}
