import Foundation
import GRDB
import NIOConcurrencyHelpers

/// Group commit for small audited units (retrievals, records that stand alone): items that
/// arrive while one transaction is under way go together into the next one, and each caller
/// returns only once the transaction holding its item has committed. No task of its own: the
/// first caller to find the writer idle leads, and hands the lead to the next waiter when its
/// transaction is done.
final class GroupCommit<Item: Sendable>: Sendable {
    typealias Commit = @Sendable ([Item], Database) throws -> Void

    private enum Turn { case committed, lead }
    private struct Waiter {
        let item: Item
        let turn: CheckedContinuation<Turn, any Error>
    }
    private struct State {
        var pending: [Waiter] = []
        var writing = false
    }

    let db: DatabasePool
    /// The most items one transaction takes.
    let maxBatch: Int
    private let commit: Commit
    private let state = NIOLockedValueBox(State())

    init(db: DatabasePool, maxBatch: Int = 256, commit: @escaping Commit) {
        self.db = db
        self.maxBatch = max(1, maxBatch)
        self.commit = commit
    }

    /// Items waiting for the next transaction (tests).
    var waiting: Int { state.withLockedValue { $0.pending.count } }

    /// Writes `item` with those queued beside it; returns once their transaction has committed,
    /// and throws its error if it failed.
    func write(_ item: Item) async throws {
        let turn: Turn = try await withCheckedThrowingContinuation { c in
            let leads = state.withLockedValue { s -> Bool in
                guard s.writing else {
                    s.writing = true
                    return true
                }
                s.pending.append(Waiter(item: item, turn: c))
                return false
            }
            if leads { c.resume(returning: .lead) }
        }
        if case .committed = turn { return }
        try await lead(item)
    }

    /// Commits this caller's item and those waiting, then passes the lead on.
    private func lead(_ own: Item) async throws {
        let others = state.withLockedValue { s -> [Waiter] in
            let n = min(s.pending.count, maxBatch - 1)
            defer { s.pending.removeFirst(n) }
            return Array(s.pending.prefix(n))
        }
        let items = [own] + others.map(\.item)
        do {
            try await db.write { [commit] db in try commit(items, db) }
        } catch is CancellationError {
            // This caller was cancelled before its transaction committed: the others go in the next.
            handOver(requeue: others)
            throw CancellationError()
        } catch {
            for waiter in others { waiter.turn.resume(throwing: error) }
            handOver(requeue: [])
            throw error
        }
        for waiter in others { waiter.turn.resume(returning: .committed) }
        handOver(requeue: [])
    }

    private func handOver(requeue: [Waiter]) {
        let next = state.withLockedValue { s -> Waiter? in
            s.pending.insert(contentsOf: requeue, at: 0)
            guard !s.pending.isEmpty else {
                s.writing = false
                return nil
            }
            return s.pending.removeFirst()
        }
        next?.turn.resume(returning: .lead)
    }
}

/// One caller's part of an audited group commit: it reads and says what to append. A unit that
/// writes (an agent's contact) must leave nothing harmful when it throws: the group commits
/// without it, but with what it wrote before throwing.
struct AuditedUnit: Sendable {
    let run: @Sendable (Database) -> [AuditEvent]
}

extension GroupCommit where Item == AuditedUnit {
    /// Units that read and are audited in one transaction with those beside them; their records
    /// are appended to the chain at once.
    static func audited(_ db: DatabasePool) -> GroupCommit<AuditedUnit> {
        GroupCommit(db: db) { units, db in try AuditLog.append(contentsOf: units.flatMap { $0.run(db) }, in: db) }
    }

    /// `body` reads what it answers and returns the record that goes with it, appended in the same
    /// transaction; its error is the caller's alone. Returns once committed.
    func perform<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> (T, AuditEvent?)) async throws -> T {
        let outcome = NIOLockedValueBox<Result<T, any Error>?>(nil)
        try await write(AuditedUnit { db in
            do {
                let (value, event) = try body(db)
                outcome.withLockedValue { $0 = .success(value) }
                return event.map { [$0] } ?? []
            } catch {
                outcome.withLockedValue { $0 = .failure(error) }
                return []
            }
        })
        guard let result = outcome.withLockedValue({ $0 }) else { throw CancellationError() }
        return try result.get()
    }

    /// A record that changes nothing else.
    func append(_ event: AuditEvent) async throws { try await perform { _ in ((), event) } }
}
