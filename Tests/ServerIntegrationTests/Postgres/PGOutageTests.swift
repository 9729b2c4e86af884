import Foundation
import Logging
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The store while its PostgreSQL is down: a call fails within the lease deadline as
/// `StoreUnavailable` (the API's 503), not after the pool's minute, and works again once the
/// database is back.
@Suite(.serialized) struct PGOutageTests {
    @Test func aCallWhileTheDatabaseIsDownFailsSoonAsUnavailableAndWorksOnceItIsBack() async throws {
        let pg = PostgresInstance()
        #expect(await PGTestDatabase.offPool { pg.create() }, "a PostgreSQL of this test's own did not start")
        defer { _ = pg.stop() }
        var logger = Logger(label: "test.outage")
        logger.logLevel = .critical
        var db = try PGDatabase(try PostgresLocation.parse(pg.url), password: Secret(pg.password), maximumConnections: 2,
            idleTimeout: .seconds(1), logger: logger)
        db.leaseTimeout = .seconds(120)  // the first connection, among every suite's at the start of a run
        let pool = Task { [db] in await db.run() }
        defer { pool.cancel() }
        #expect(try await db.read { c in try await c.column(Int.self, "SELECT 1::bigint") } == [1])
        var probe = db  // the same pool, a short wait for a connection
        probe.leaseTimeout = .seconds(2)

        #expect(await PGTestDatabase.offPool { pg.stop() }, "PostgreSQL stopped")
        let asked = ContinuousClock.now
        var failure: (any Error)?
        do { _ = try await probe.read { c in try await c.column(Int.self, "SELECT 1::bigint") } } catch { failure = error }
        #expect(failure is StoreUnavailable, "got \(failure.map { "\(type(of: $0)): \($0)" } ?? "an answer")")
        #expect(ContinuousClock.now - asked < .seconds(15), "bounded by the lease deadline, not the pool's breaker")
        failure = nil
        do { _ = try await probe.write { c in try await c.execute("SELECT 1::bigint") } } catch { failure = error }
        #expect(failure is StoreUnavailable, "a write too: \(failure.map { "\(type(of: $0))" } ?? "an answer")")

        #expect(await PGTestDatabase.offPool { pg.start() }, "PostgreSQL started again")
        var answer: [Int] = []
        let deadline = ContinuousClock.now + .seconds(60)
        while answer.isEmpty && ContinuousClock.now < deadline {
            answer = (try? await probe.read { c in try await c.column(Int.self, "SELECT 1::bigint") }) ?? []
            if answer.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(answer == [1], "the pool reconnects by itself")
    }

    /// Sixteen writers while PostgreSQL stops and starts again: every call ends (with its answer or
    /// an error), none waits forever. Before `PGCloseWatch`, each round left about ten calls waiting
    /// forever in BEGIN or ROLLBACK, on connections that had closed.
    @Test(arguments: 0..<2) func everyCallInFlightWhenTheServerStopsEnds(_ round: Int) async throws {
        let pg = PostgresInstance()
        #expect(await PGTestDatabase.offPool { pg.create() }, "a PostgreSQL of this test's own did not start")
        defer { _ = pg.stop() }
        var logger = Logger(label: "test.outage")
        logger.logLevel = .critical
        let db = try PGDatabase(try PostgresLocation.parse(pg.url), password: Secret(pg.password), maximumConnections: 20, logger: logger)
        let pool = Task { await db.run() }
        defer { pool.cancel() }
        try await db.write { c in try await c.execute("CREATE TABLE t (id bigserial PRIMARY KEY, v text)") }
        let calls = InFlight()
        let writers = (0..<16).map { _ in
            Task {
                while !Task.isCancelled {
                    let id = calls.start()
                    _ = try? await db.write { c in try await c.execute("INSERT INTO t (v) VALUES (?)", ["x"]) }
                    calls.end(id)
                    try? await Task.sleep(for: .milliseconds(5))
                }
            }
        }
        defer { for w in writers { w.cancel() } }
        #expect(await eventually(seconds: 120) { calls.finished >= 16 }, "the writers write: \(calls.finished)")
        #expect(await PGTestDatabase.offPool { pg.stop() }, "PostgreSQL stopped")
        // Every writer's call in flight at the stop ended and it began another, now waiting on a database that is down.
        let atStop = calls.total
        #expect(await eventually(seconds: 120) { calls.total - atStop >= 16 }, "calls begun while down: \(calls.total - atStop)")
        #expect(await PGTestDatabase.offPool { pg.start() }, "PostgreSQL started again")
        let since = ContinuousClock.now
        let deadline = since + .seconds(45)  // lease 10 s, connect 10 s: far above what an answer takes
        while calls.startedBefore(since) > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
        #expect(calls.startedBefore(since) == 0, "calls begun before the restart still waiting: \(calls.startedBefore(since))")
        #expect(calls.finished > 10, "the writers ran: \(calls.finished)")
    }

    /// The calls under way, by when they began.
    final class InFlight: @unchecked Sendable {
        private let lock = NSLock()
        private var begun: [Int: ContinuousClock.Instant] = [:]
        private var last = 0
        private var ended = 0
        var finished: Int { lock.withLock { ended } }
        var total: Int { lock.withLock { last } }
        func start() -> Int {
            lock.withLock {
                last += 1
                begun[last] = .now
                return last
            }
        }
        func end(_ id: Int) { lock.withLock { _ = begun.removeValue(forKey: id); ended += 1 } }
        func startedBefore(_ t: ContinuousClock.Instant) -> Int { lock.withLock { begun.values.filter { $0 < t }.count } }
    }
}
