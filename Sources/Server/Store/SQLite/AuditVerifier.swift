import GRDB

/// Walks the chain from the first record. Any edited, deleted, inserted or reordered record
/// breaks it; a deleted tail is caught by the head stored beside the chain, which the audit key authenticates.
enum AuditVerifier {
    struct Result: Sendable, Equatable {
        var checked: Int
        var firstBad: Int64?
        var problem: String?
        var ok: Bool { firstBad == nil && problem == nil }
    }

    static func verify(_ db: Database) throws -> Result {
        let key = try AuditLog.key(db)
        var prev = AuditEntry.genesis
        var expectedID: Int64 = 1
        var n = 0
        let cursor = try AuditEntry.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY id")
        while let e = try cursor.next() {
            n += 1
            if e.id != expectedID {
                return Result(checked: n, firstBad: e.id, problem: "record \(expectedID) is missing before record \(e.id)")
            }
            if e.prevHash != prev {
                return Result(checked: n, firstBad: e.id, problem: "record \(e.id) does not follow the record before it")
            }
            let hash = AuditEntry.digest(key: key, prev: prev, id: e.id, at: e.at, fields: e.chainFields)
            if hash != e.hash {
                return Result(checked: n, firstBad: e.id, problem: "record \(e.id) was altered")
            }
            prev = e.hash
            expectedID += 1
        }
        let last = expectedID - 1
        guard case .valid(let headID, let headHash) = try AuditHead.read(key: key, db) else {
            return Result(checked: n, firstBad: max(1, last), problem: "the audit head is missing or not authenticated by the audit key: it was rewritten")
        }
        if headID != last || headHash != prev {
            return Result(checked: n, firstBad: min(headID, last + 1),
                problem: "the trail ends at record \(last) but its head is record \(headID): records were removed from the end")
        }
        if let alarm = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM audit WHERE operation = ?", arguments: [AuditHead.alarm]) {
            return Result(checked: n, firstBad: alarm,
                problem: "record \(alarm) records that the audit head had been rewritten: records before it may have been removed")
        }
        // Every vault with users has at least the bootstrap record: an empty trail was emptied.
        if n == 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 > 0 {
            return Result(checked: 0, firstBad: 1, problem: "the trail is empty but the vault has users: records were removed")
        }
        return Result(checked: n, firstBad: nil, problem: nil)
    }
}
