import Foundation
import GRDB

/// Account sync (PMP's "sync account addition / deletion"): where a resource served by the agent
/// enables it, accounts the host has are added (password unknown until a reset) and accounts it no
/// longer has are removed. An empty report removes nothing; an account in a reset is kept.
extension Custody {
    func syncAgentAccounts(_ agent: AgentRecord, _ reported: [String]) async throws {
        let names = Set(reported.filter { !$0.isEmpty && $0.count <= 64 && !$0.contains(where: { $0.isWhitespace || $0 == ":" }) })
        guard !names.isEmpty else { return }
        try await store.write { db in
            let resources = try ResourceRecord.fetchAll(db, sql: """
                SELECT r.* FROM resources r JOIN resetConfigs c ON c.resourceId = r.id
                WHERE (r.id = ? OR lower(r.dnsName) = ?) AND c.json LIKE '%"mode":"agent"%'
                """, arguments: [agent.resourceId, agent.hostname])
            for r in resources {
                guard let config = try ResetConfig.stored(for: r.id, db), config.mode == .agent, try agentFor(r, db)?.id == agent.id
                else { continue }
                let existing = try AccountRecord.filter(Column("resourceId") == r.id).fetchAll(db)
                let known = Set(existing.map(\.loginName))
                if config.syncAccountAddition == true {
                    for name in names.subtracting(known).sorted() {
                        let a = AccountRecord(id: newID(), resourceId: r.id, loginName: name, description: "found by the agent on \(agent.hostname)",
                            notes: nil, customFields: [:], syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: nil, createdAt: now())
                        try a.insert(db)
                        try AuditLog.append(AuditEvent(user: "agent:\(agent.hostname)", ip: "agent", operation: "account_sync_added",
                            resource: r.name, account: name, message: "no password is known until a reset", resourceId: r.id, accountId: a.id), in: db)
                    }
                }
                if config.syncAccountDeletion == true {
                    for a in existing where !names.contains(a.loginName) {
                        if try resetUnderWay(a.id, db) { continue }
                        try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", arguments: [a.id])
                        _ = try a.delete(db)
                        try AuditLog.append(AuditEvent(user: "agent:\(agent.hostname)", ip: "agent", operation: "account_sync_removed",
                            resource: r.name, account: a.loginName, message: "the host no longer has this account; its password history is deleted",
                            resourceId: r.id, accountId: a.id), in: db)
                    }
                }
            }
        }
    }
}
