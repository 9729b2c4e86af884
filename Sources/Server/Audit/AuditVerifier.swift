import GRDB

/// Walks the chain from the first record. Any edited, deleted, inserted or reordered record
/// breaks it; a deleted tail is caught by the head stored beside the chain.
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
        let head = try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = 'audit.head'")
        let last = expectedID - 1
        if let head, head != "\(last):\(prev)" {
            let headID = Int64(head.split(separator: ":").first ?? "") ?? last
            return Result(checked: n, firstBad: min(headID, last + 1), problem: "the trail ends at record \(last) but its head is record \(headID): records were removed from the end")
        }
        if head == nil && n > 0 {
            return Result(checked: n, firstBad: 1, problem: "the audit head is missing")
        }
        // Every vault with users has at least the bootstrap record: an empty trail was emptied.
        if n == 0, try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0 > 0 {
            return Result(checked: 0, firstBad: 1, problem: "the trail is empty but the vault has users: records were removed")
        }
        return Result(checked: n, firstBad: nil, problem: nil)
    }
}
