import Foundation
import GRDB

/// The agent that serves a resource.
extension Custody {
    /// The agent an administrator bound to a resource in mode `agent` (by the bundle made for it, or
    /// by approving a binding). A host name never binds anything.
    func agentFor(_ r: ResourceRecord, _ db: Database) throws -> AgentRecord? {
        try AgentRecord.fetchOne(db, sql: """
            SELECT a.* FROM agentBindings b JOIN agents a ON a.id = b.agentId WHERE b.resourceId = ? AND a.revokedAt IS NULL
            """, arguments: [r.id])
    }
}
