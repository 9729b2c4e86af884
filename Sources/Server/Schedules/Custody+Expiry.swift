import Foundation
import GRDB
import Shared

/// Expiry: a password older than its policy's maximum age is expired. Each expiry is recorded
/// (audit `password_expired`) once, and reset where the account's group asks for it.
extension Custody {
    /// Returns the accounts found newly expired.
    @discardableResult
    func runExpiry() async throws -> [String] {
        let at = now()
        return try await store.write { db in
            var expired: [String] = []
            for r in try ResourceRecord.fetchAll(db) {
                let policy = try Catalog.effectivePolicy(for: r, db)
                guard let days = policy.maxAgeDays, days > 0 else { continue }
                let resetGroups = try String.fetchAll(db, sql: """
                    SELECT ro.json FROM rotations ro JOIN groupResources gr ON gr.groupId = ro.groupId WHERE gr.resourceId = ?
                    """, arguments: [r.id]).compactMap { try? JSONDecoder.api.decode(RotationConfig.self, from: Data($0.utf8)) }
                    .filter { $0.resetOnExpiry == true }
                for a in try AccountRecord.filter(Column("resourceId") == r.id).fetchAll(db) {
                    guard let changed = try changedAt(a, db), at.timeIntervalSince(changed) > Double(days) * 86400 else { continue }
                    let noted = try Double.fetchOne(db, sql: "SELECT changedAt FROM expiries WHERE accountId = ?", arguments: [a.id])
                    guard noted != changed.seconds else { continue }  // this expiry is already recorded
                    try db.execute(sql: """
                        INSERT INTO expiries(accountId, changedAt, notedAt) VALUES (?, ?, ?)
                        ON CONFLICT(accountId) DO UPDATE SET changedAt = excluded.changedAt, notedAt = excluded.notedAt
                        """, arguments: [a.id, changed.seconds, at.seconds])
                    var message = "the password is older than \(days) days (policy \(policy.name))"
                    if !resetGroups.isEmpty { message += "; " + (try queueExpiryReset(r, a, db)) }
                    try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "password_expired", resource: r.name,
                        account: a.loginName, message: message, resourceId: r.id, accountId: a.id), in: db)
                    var f = NotificationFacts(.passwordExpired)
                    (f.resource, f.account, f.status, f.message) = (r.name, a.loginName, "expired", message)
                    try notify(f, accounts: [a.id], db)
                    expired.append(a.id)
                }
            }
            if !expired.isEmpty { db.afterNextTransaction { _ in taskSignal.poke() } }
            return expired
        }
    }

    /// When the current password was set: the account's last change, else the secret's creation.
    func changedAt(_ a: AccountRecord, _ db: Database) throws -> Date? {
        if let changed = a.lastChangedAt { return changed }
        return try Double.fetchOne(db, sql: "SELECT createdAt FROM secrets WHERE accountId = ? AND state = 'current'", arguments: [a.id])
            .map(Date.init(timeIntervalSince1970:))
    }

    /// Queues the reset an expiry asks for; says what happened.
    func queueExpiryReset(_ r: ResourceRecord, _ a: AccountRecord, _ db: Database) throws -> String {
        if try resetUnderWay(a.id, db) {
            return "a reset is already under way"
        }
        do { try resetTarget(r, a, db).checkLoginName() } catch { return "no reset: \(Self.describe(error))" }
        let t = try newTask(.reset, r, a, by: "expiry", reason: "password expired", db)
        try t.insert(db)
        return "reset queued, task \(t.id)"
    }
}
