import Foundation
import GRDB

/// Expiries and the rotation notices: each raised once, marked in the transaction that raises it.
extension SQLiteRunStore {
    func sendRotationNotices(at: Date, pre: @Sendable (GroupRecord, SavedRotation, [RotationRunRecord.Entry]) -> Notice?,
        post: @Sendable (RotationRunView, GroupRecord?, SavedRotation?) -> Notice) async throws
    {
        try await db.write { [notices] db in
            for id in try String.fetchAll(db, sql: "SELECT groupId FROM rotations") {
                guard let saved = try SQLiteRotationStore.saved(id, db), let next = saved.nextRunAt, let g = try GroupRecord.fetchOne(db, key: id),
                    try Double.fetchOne(db, sql: "SELECT at FROM notificationMarks WHERE key = ?", arguments: ["rotation_pre:" + id]) != next.seconds
                else { continue }
                let accounts = try Row.fetchAll(db, sql: """
                    SELECT a.id, a.loginName, r.id AS rid, r.name FROM accounts a JOIN resources r ON r.id = a.resourceId
                    JOIN groupResources gr ON gr.resourceId = r.id JOIN resetConfigs c ON c.resourceId = r.id
                    WHERE gr.groupId = ? ORDER BY r.name, a.loginName
                    """, arguments: [id]).map { RotationRunRecord.Entry(resourceId: $0["rid"], accountId: $0["id"], resource: $0["name"], account: $0["loginName"]) }
                guard let notice = pre(g, saved, accounts) else { continue }
                try SQLiteNotices.mark("rotation_pre:" + id, next.seconds, db)
                try notices.queue(notice, db)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM rotationRuns WHERE noticedAt IS NULL") {
                let view = try Self.view(row, scope: nil, db)
                guard view.summary.pending == 0 else { continue }
                try db.execute(sql: "UPDATE rotationRuns SET noticedAt = ? WHERE id = ?", arguments: [at.seconds, view.id])
                let g = try GroupRecord.fetchOne(db, key: view.groupId ?? "")
                try notices.queue(post(view, g, try g.flatMap { try SQLiteRotationStore.saved($0.id, db) }), db)
            }
        }
    }

    func recordExpiries(at: Date, step: @Sendable (ExpiryCandidate) -> ExpiryStep?) async throws -> [String] {
        try await db.write { [notices] db in
            var expired: [String] = []
            for r in try ResourceRecord.fetchAll(db) {
                let policy = try Catalog.effectivePolicy(for: r, db)
                guard let days = policy.maxAgeDays, days > 0 else { continue }  // its passwords never expire
                let resetOnExpiry = try String.fetchAll(db, sql: """
                    SELECT ro.json FROM rotations ro JOIN groupResources gr ON gr.groupId = ro.groupId WHERE gr.resourceId = ?
                    """, arguments: [r.id]).compactMap { try? JSONDecoder.api.decode(RotationConfig.self, from: Data($0.utf8)) }
                    .contains { $0.resetOnExpiry == true }
                for a in try AccountRecord.filter(Column("resourceId") == r.id).fetchAll(db) {
                    guard let changed = try Self.changedAt(a, db) else { continue }
                    let noted = try Double.fetchOne(db, sql: "SELECT changedAt FROM expiries WHERE accountId = ?", arguments: [a.id])
                    guard noted != changed.seconds else { continue }  // this password's expiry is already recorded
                    let candidate = ExpiryCandidate(target: try SQLiteTaskStore.target(r, a, db), policy: policy, changedAt: changed,
                        resetOnExpiry: resetOnExpiry, resetUnderWay: try TaskRecord.resetUnderWay(a.id, db), checkedOut: try Self.holder(a.id, db))
                    guard let s = step(candidate) else { continue }
                    try db.execute(sql: """
                        INSERT INTO expiries(accountId, changedAt, notedAt) VALUES (?, ?, ?)
                        ON CONFLICT(accountId) DO UPDATE SET changedAt = excluded.changedAt, notedAt = excluded.notedAt
                        """, arguments: [a.id, changed.seconds, at.seconds])
                    if let t = s.task { try t.insert(db) }
                    if s.catchUp { try db.execute(sql: AccessRequestQuery.catchUp, arguments: [a.id]) }
                    try AuditLog.append(s.audit, in: db)
                    try notices.queue(s.notice, db)
                    expired.append(a.id)
                }
            }
            if !expired.isEmpty { db.afterNextTransaction { [queued] _ in queued() } }
            return expired
        }
    }

    /// When the current password was set: the account's last change, else the secret's creation.
    static func changedAt(_ a: AccountRecord, _ db: Database) throws -> Date? {
        if let changed = a.lastChangedAt { return changed }
        return try Double.fetchOne(db, sql: "SELECT createdAt FROM secrets WHERE accountId = ? AND state = 'current'", arguments: [a.id])
            .map(Date.init(timeIntervalSince1970:))
    }
}
