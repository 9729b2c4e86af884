import Foundation
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
        let checkpoint = AuditCheckpoint.parse(try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [AuditCheckpoint.key]),
            key: key)
        let (start, forged) = Walk.from(checkpoint, key: key)
        guard var walk = start else { return forged! }
        if let below = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM audit WHERE id < ?", arguments: [walk.expectedID]) {
            return Walk.belowCheckpoint(below)
        }
        let cursor = try AuditEntry.fetchCursor(db, sql: "SELECT * FROM audit WHERE id > ? ORDER BY id", arguments: [walk.expectedID - 1])
        while let e = try cursor.next() { if let bad = walk.next(e) { return bad } }
        let alarm = try Int64.fetchOne(db, sql: "SELECT MIN(id) FROM audit WHERE operation = ?", arguments: [AuditHead.alarm])
        let users = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM users") ?? 0
        return walk.finish(head: try AuditHead.read(key: walk.key, db), firstAlarm: alarm, hasUsers: users > 0)
    }

    /// The walk itself, fed the records oldest first by any backend.
    struct Walk {
        let key: Data
        var prev = AuditEntry.genesis
        var expectedID: Int64 = 1
        var n = 0

        init(key: Data) { self.key = key }

        /// The first problem, at this record; nil while the chain holds.
        mutating func next(_ e: AuditEntry) -> Result? {
            n += 1
            if e.id != expectedID {
                return Result(checked: n, firstBad: e.id, problem: "record \(expectedID) is missing before record \(e.id)")
            }
            if e.prevHash != prev {
                return Result(checked: n, firstBad: e.id, problem: "record \(e.id) does not follow the record before it")
            }
            if AuditEntry.digest(key: key, prev: prev, id: e.id, at: e.at, fields: e.chainFields) != e.hash {
                return Result(checked: n, firstBad: e.id, problem: "record \(e.id) was altered")
            }
            prev = e.hash
            expectedID += 1
            return nil
        }

        func finish(head: AuditHead.State, firstAlarm alarm: Int64?, hasUsers: Bool) -> Result {
            let last = expectedID - 1
            guard case .valid(let headID, let headHash) = head else {
                return Result(checked: n, firstBad: max(1, last), problem: "the audit head is missing or not authenticated by the audit key: it was rewritten")
            }
            if headID != last || headHash != prev {
                return Result(checked: n, firstBad: min(headID, last + 1),
                    problem: "the trail ends at record \(last) but its head is record \(headID): records were removed from the end")
            }
            if let alarm {
                return Result(checked: n, firstBad: alarm,
                    problem: "record \(alarm) records that the audit head had been rewritten: records before it may have been removed")
            }
            // Every vault with users has at least the bootstrap record (or, after a purge, the purge's
            // own record): an empty trail was emptied.
            if n == 0, hasUsers {
                return Result(checked: 0, firstBad: 1, problem: "the trail is empty but the vault has users: records were removed")
            }
            return Result(checked: n, firstBad: nil, problem: nil)
        }
    }
}
