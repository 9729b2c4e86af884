import Foundation

/// Account sync (PMP's "sync account addition / deletion"): where a resource bound to the agent
/// enables it, accounts the host has are added (password unknown until a reset), and accounts it no
/// longer has are marked `missing`: never deleted, their passwords and history kept. One that comes
/// back is `unknown` again. An empty report changes nothing.
struct AccountSync: Sendable {
    let store: any AccountStore
    let now: @Sendable () -> Date

    func sync(_ agent: AgentRecord, _ reported: [String]) async throws {
        let names = Set(reported.filter { !$0.isEmpty && $0.count <= 64 && !$0.contains(where: { $0.isWhitespace || $0 == ":" }) })
        guard !names.isEmpty else { return }
        let at = now()
        let who = "agent:\(agent.hostname)"
        try await store.syncReported(by: agent.id) { r, config, existing in
            var plan = AccountSyncPlan()
            let known = Set(existing.map(\.loginName))
            if config.syncAccountAddition == true {
                for name in names.subtracting(known).sorted() {
                    let a = AccountRecord(id: newID(), resourceId: r.id, loginName: name, description: "found by the agent on \(agent.hostname)",
                        notes: nil, customFields: [:], syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: nil, createdAt: at)
                    plan.add.append((a, AuditEvent(user: who, ip: "agent", operation: "account_sync_added", resource: r.name, account: name,
                        message: "no password is known until a reset", resourceId: r.id, accountId: a.id)))
                }
            }
            guard config.syncAccountDeletion == true else { return plan }
            for var a in existing where !names.contains(a.loginName) && a.syncStatus != .missing {
                a.syncStatus = .missing
                plan.update.append((a, AuditEvent(user: who, ip: "agent", operation: "account_sync_missing", resource: r.name, account: a.loginName,
                    message: "the host no longer has this account; it is kept with its passwords", resourceId: r.id, accountId: a.id)))
            }
            for var a in existing where names.contains(a.loginName) && a.syncStatus == .missing {
                a.syncStatus = .unknown
                plan.update.append((a, AuditEvent(user: who, ip: "agent", operation: "account_sync_found", resource: r.name, account: a.loginName,
                    message: "the host has this account again", resourceId: r.id, accountId: a.id)))
            }
            return plan
        }
    }
}
