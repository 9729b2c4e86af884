import Foundation

/// Expiries and the rotation notices: each raised once, marked in the transaction that raises it.
extension PGRunStore {
    func sendRotationNotices(at: Date, pre: @Sendable (GroupRecord, SavedRotation, [RotationRunRecord.Entry]) -> Notice?,
        post: @Sendable (RotationRunView, GroupRecord?, SavedRotation?) -> Notice) async throws
    {
        try await db.write { [notices] c in
            for id in try await c.column(String.self, "SELECT groupId FROM rotations") {
                guard let saved = try await PGRotationStore.saved(id, c), let next = saved.nextRunAt, let g = try await PGRotationStore.group(id, c),
                    try await c.scalar(Double.self, "SELECT at FROM notificationMarks WHERE key = ?", ["rotation_pre:" + id]) != next.seconds
                else { continue }
                let accounts = try await c.rows("""
                    SELECT a.id, a.loginName, r.id AS rid, r.name FROM accounts a JOIN resources r ON r.id = a.resourceId
                    JOIN groupResources gr ON gr.resourceId = r.id JOIN resetConfigs c ON c.resourceId = r.id
                    WHERE gr.groupId = ? ORDER BY r.name, a.loginName
                    """, [id]).map {
                    RotationRunRecord.Entry(resourceId: try $0["rid"], accountId: try $0["id"], resource: try $0["name"], account: try $0["loginName"])
                }
                guard let notice = pre(g, saved, accounts) else { continue }
                try await PGNotices.mark("rotation_pre:" + id, next.seconds, c)
                try await notices.queue(notice, c)
            }
            for row in try await c.rows("SELECT * FROM rotationRuns WHERE noticedAt IS NULL") {
                let view = try await Self.view(row, scope: nil, c)
                guard view.summary.pending == 0 else { continue }
                try await c.execute("UPDATE rotationRuns SET noticedAt = ? WHERE id = ?", [at, view.id])
                let g = try await PGRotationStore.group(view.groupId ?? "", c)
                var saved: SavedRotation? = nil
                if let g { saved = try await PGRotationStore.saved(g.id, c) }
                try await notices.queue(post(view, g, saved), c)
            }
        }
    }

    func recordExpiries(at: Date, step: @Sendable (ExpiryCandidate) -> ExpiryStep?) async throws -> [String] {
        try await db.write { [notices, log] c in
            var expired: [String] = []
            for r in try await c.all(ResourceRecord.self, "SELECT * FROM resources") {
                let policy = try await PGCatalog.effectivePolicy(for: r, c)
                guard let days = policy.maxAgeDays, days > 0 else { continue }  // its passwords never expire
                let resetOnExpiry = try await c.column(String.self, """
                    SELECT ro.json FROM rotations ro JOIN groupResources gr ON gr.groupId = ro.groupId WHERE gr.resourceId = ?
                    """, [r.id]).compactMap { try? JSONDecoder.api.decode(RotationConfig.self, from: Data($0.utf8)) }
                    .contains { $0.resetOnExpiry == true }
                for a in try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ?", [r.id]) {
                    guard let changed = try await Self.changedAt(a, c) else { continue }
                    let noted = try await c.scalar(Double.self, "SELECT changedAt FROM expiries WHERE accountId = ?", [a.id])
                    guard noted != changed.seconds else { continue }  // this password's expiry is already recorded
                    let candidate = ExpiryCandidate(target: try await PGTaskStore.target(r, a, c), policy: policy, changedAt: changed,
                        resetOnExpiry: resetOnExpiry, resetUnderWay: try await PGQueries.resetUnderWay(a.id, c), checkedOut: try await Self.holder(a.id, c))
                    guard let s = step(candidate) else { continue }
                    try await c.execute("""
                        INSERT INTO expiries(accountId, changedAt, notedAt) VALUES (?, ?, ?)
                        ON CONFLICT (accountId) DO UPDATE SET changedAt = excluded.changedAt, notedAt = excluded.notedAt
                        """, [a.id, changed, at])
                    if let t = s.task { try await c.insert(t, into: "tasks") }
                    if s.catchUp { try await c.execute(AccessRequestQuery.catchUp, [a.id]) }
                    try await log.append(s.audit, c)
                    try await notices.queue(s.notice, c)
                    expired.append(a.id)
                }
            }
            if !expired.isEmpty { c.afterCommit(queued) }
            return expired
        }
    }

    /// When the current password was set: the account's last change, else the secret's creation.
    static func changedAt(_ a: AccountRecord, _ c: PGConnection) async throws -> Date? {
        if let changed = a.lastChangedAt { return changed }
        return try await c.scalar(Date.self, "SELECT createdAt FROM secrets WHERE accountId = ? AND state = 'current'", [a.id])
    }
}
