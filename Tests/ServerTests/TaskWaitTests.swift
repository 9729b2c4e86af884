import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

/// `GET /tasks/{id}?wait=` waits on a signal that a committed change to the tasks pokes (GRDB
/// observation), not on a polling loop.
@Suite struct TaskWaitTests {
    @Test func aCommittedChangeToTheTasksPokesTheSignalAndOtherTablesDoNot() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("waits", token: admin)
            let aid = try await api.account(rid, "svc", password: "Svc-Pass-123", token: admin)
            let custody = h.custody
            var seen = custody.taskChanged.current
            try await custody.store.write { db in try db.execute(sql: "UPDATE settings SET value = value WHERE key = 'audit.head'") }
            #expect(custody.taskChanged.current == seen, "a commit elsewhere does not wake task waiters")
            let task = try await custody.store.write { db -> TaskRecord in
                let t = try custody.newTask(.verify, try #require(try ResourceRecord.fetchOne(db, key: rid)),
                    try #require(try AccountRecord.fetchOne(db, key: aid)), by: "root", reason: nil, db)
                try t.insert(db)
                return t
            }
            #expect(custody.taskChanged.current != seen, "queuing a task pokes")
            seen = custody.taskChanged.current
            try await custody.store.write { db in
                var t = try #require(try TaskRecord.fetchOne(db, key: task.id))
                t.end(.cancelled, code: "cancelled", message: "test", at: Date())
                try t.update(db)
            }
            #expect(custody.taskChanged.current != seen, "ending a task pokes")
        }
    }

    @Test func aWaiterThatReadBeforeAPokeDoesNotSleepThroughIt() async {
        let s = TaskSignal()
        let seen = s.current
        s.poke()
        // Returns at once; were the poke lost it would sleep out the ten minutes.
        let start = ContinuousClock.now
        await s.wait(after: seen, timeout: .seconds(600))
        #expect(ContinuousClock.now - start < .seconds(300))
    }

    /// A wait cancelled (a graceful shutdown) returns at once, even when the cancellation comes
    /// before the waiter is registered: once, a stopping server waited forever there.
    @Test func aCancelledWaitReturnsEvenBeforeItsWaiterIsRegistered() async {
        let signal = TaskSignal()
        let done = Counter()
        // A hung wait would sleep its full 600 s; the bound leaves room for a crowded test process
        // (the other suites share these two cooperative threads).
        let finished = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for _ in 0..<100 {
                    let t = Task { await signal.wait(timeout: .seconds(600)) }
                    t.cancel()
                    await t.value
                    done.add()
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(300))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(finished, "100 cancelled waits returned within 300 s (\(done.value) did)")
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var value: Int { lock.withLock { n } }
    }
}
