import Foundation
import GRDB

/// Events raised from more than one place, and the rotation notices the scheduler sends.
extension Custody {
    /// Facts about one account, read in the event's transaction.
    func accountFacts(_ event: NotificationEvent, resourceId: String, accountId: String, _ db: Database) throws -> NotificationFacts {
        var f = NotificationFacts(event)
        f.resource = try String.fetchOne(db, sql: "SELECT name FROM resources WHERE id = ?", arguments: [resourceId]) ?? resourceId
        f.account = try String.fetchOne(db, sql: "SELECT loginName FROM accounts WHERE id = ?", arguments: [accountId]) ?? accountId
        return f
    }

    /// Out of sync notifies at most once a day per account (PMP's daily notice while it stays so);
    /// the account's return to sync clears the mark.
    func notifyOutOfSync(resourceId: String, accountId: String, message: String, _ db: Database) throws {
        let key = "out_of_sync:" + accountId
        if let last = try Double.fetchOne(db, sql: "SELECT at FROM notificationMarks WHERE key = ?", arguments: [key]),
            now().seconds - last < 20 * 3600
        { return }
        try mark(key, now().seconds, db)
        var f = try accountFacts(.outOfSync, resourceId: resourceId, accountId: accountId, db)
        f.status = "failure"
        f.message = message
        try notify(f, accounts: [accountId], db)
    }

    func clearOutOfSync(_ accountId: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM notificationMarks WHERE key = ?", arguments: ["out_of_sync:" + accountId])
    }

    func mark(_ key: String, _ value: Double, _ db: Database) throws {
        try db.execute(sql: "INSERT INTO notificationMarks(key, at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET at = excluded.at",
            arguments: [key, value])
    }

    /// The scheduler's tick: pre-notices of rotations starting within their lead time, once per
    /// run; post-notices of runs whose every reset has ended, with one line per account.
    func sendRotationNotices() async throws {
        let at = now()
        try await store.write { db in
            for id in try String.fetchAll(db, sql: "SELECT groupId FROM rotations") {
                guard let saved = try rotation(id, db), let pre = saved.config.preNotify, let next = saved.nextRunAt,
                    next.timeIntervalSince(at) <= Double(pre.minutesBefore) * 60, next > at,
                    try Double.fetchOne(db, sql: "SELECT at FROM notificationMarks WHERE key = ?", arguments: ["rotation_pre:" + id]) != next.seconds,
                    let g = try GroupRecord.fetchOne(db, key: id)
                else { continue }
                try mark("rotation_pre:" + id, next.seconds, db)
                let accounts = try Row.fetchAll(db, sql: """
                    SELECT a.id, a.loginName, r.name FROM accounts a JOIN resources r ON r.id = a.resourceId
                    JOIN groupResources gr ON gr.resourceId = r.id JOIN resetConfigs c ON c.resourceId = r.id
                    WHERE gr.groupId = ? ORDER BY r.name, a.loginName
                    """, arguments: [id])
                var f = NotificationFacts(.rotationUpcoming)
                f.user = "schedule"
                f.group = g.name
                f.runAt = next
                f.report = accounts.map { "- \($0["name"] as String) / \($0["loginName"] as String)" }.joined(separator: "\n")
                try notify(f, accounts: accounts.map { $0["id"] }, extra: pre.recipients, db)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM rotationRuns WHERE noticedAt IS NULL") {
                let view = try Routes.runView(row, db)
                guard view.summary.pending == 0 else { continue }
                try db.execute(sql: "UPDATE rotationRuns SET noticedAt = ? WHERE id = ?", arguments: [at.seconds, view.id])
                let g = try GroupRecord.fetchOne(db, key: view.groupId ?? "")
                var f = NotificationFacts(.rotationCompleted)
                f.user = view.requestedBy
                f.group = g?.name ?? view.groupId
                f.run = view.id
                f.runAt = view.startedAt
                let s = view.summary
                f.status = s.failed == 0 ? "success" : "failure"
                f.message = "\(s.total) accounts: \(s.succeeded) changed, \(s.failed) failed, \(s.skipped) skipped"
                f.report = "Summary: \(f.message!)\n" + view.accounts.map { a in
                    "- \(a.resource) / \(a.account): \(a.state)" + (a.message.map { " (\($0))" } ?? "")
                }.joined(separator: "\n")
                let recipients = try g.flatMap { try rotation($0.id, db)?.config.postNotify?.recipients }
                try notify(f, accounts: view.accounts.map(\.accountId), extra: recipients, db)
            }
        }
    }
}
