import Foundation
import GRDB

/// Account sync (PMP's "sync account addition / deletion"): where a resource bound to the agent
/// enables it, accounts the host has are added (password unknown until a reset), and accounts it no
/// longer has are marked `missing`: never deleted, their passwords and history kept. One that comes
/// back is `unknown` again. An empty report changes nothing.
extension Custody {
    func syncAgentAccounts(_ agent: AgentRecord, _ reported: [String]) async throws {
        let names = Set(reported.filter { !$0.isEmpty && $0.count <= 64 && !$0.contains(where: { $0.isWhitespace || $0 == ":" }) })
        guard !names.isEmpty else { return }
        try await store.write { db in
            let resources = try ResourceRecord.fetchAll(db, sql: """
                SELECT r.* FROM resources r JOIN resetConfigs c ON c.resourceId = r.id JOIN agentBindings b ON b.resourceId = r.id
                WHERE b.agentId = ? AND c.json LIKE '%"mode":"agent"%'
                """, arguments: [agent.id])
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
                    for var a in existing where !names.contains(a.loginName) && a.syncStatus != .missing {
                        a.syncStatus = .missing
                        try a.update(db)
                        try AuditLog.append(AuditEvent(user: "agent:\(agent.hostname)", ip: "agent", operation: "account_sync_missing",
                            resource: r.name, account: a.loginName, message: "the host no longer has this account; it is kept with its passwords",
                            resourceId: r.id, accountId: a.id), in: db)
                    }
                    for var a in existing where names.contains(a.loginName) && a.syncStatus == .missing {
                        a.syncStatus = .unknown
                        try a.update(db)
                        try AuditLog.append(AuditEvent(user: "agent:\(agent.hostname)", ip: "agent", operation: "account_sync_found",
                            resource: r.name, account: a.loginName, message: "the host has this account again", resourceId: r.id, accountId: a.id), in: db)
                    }
                }
            }
        }
    }
}
