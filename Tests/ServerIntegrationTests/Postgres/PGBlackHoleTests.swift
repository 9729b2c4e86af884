import Foundation
import Logging
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// A database that vanishes without a word (PostgreSQL in a network namespace whose link goes
/// down: nothing sent there is answered or refused). A statement waiting for its answer, and one
/// sent on an idle connection, both fail as `StoreUnavailable` within seconds (keepalive, user
/// timeout), where TCP alone would wait for ever or about 15 minutes.
@Suite(.serialized) struct PGBlackHoleTests {
    /// The outcome of a call run apart, so a call that never ends cannot hang the test.
    final class Outcome: @unchecked Sendable {
        private let lock = NSLock()
        private var error: (any Error)?
        private var ended: ContinuousClock.Instant?
        func end(_ e: (any Error)?) { lock.withLock { (error, ended) = (e, .now) } }
        var result: (error: (any Error)?, at: ContinuousClock.Instant?) { lock.withLock { (error, ended) } }
    }

    static func apart(_ body: @escaping @Sendable () async throws -> Void) -> Outcome {
        let o = Outcome()
        Task {
            do { try await body(); o.end(nil) } catch { o.end(error) }
        }
        return o
    }

    @Test(.needs("root and ip(8), for a network namespace", getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip")))
    func aDatabaseThatVanishesIsNoticedInSecondsNotWhenTCPGivesUp() async throws {
        let net = try #require(BlackHoleNet.make(), "a network namespace could not be made")
        defer { net.remove() }
        let pg = PostgresInstance(address: net.inner, netns: net.name)
        #expect(await PGTestDatabase.offPool { pg.create() }, "a PostgreSQL in the namespace did not start")
        var logger = Logger(label: "test.blackhole")
        logger.logLevel = .critical
        var made = try PGDatabase(try PostgresLocation.parse(pg.url), password: Secret(pg.password), maximumConnections: 2, logger: logger)
        made.leaseTimeout = .seconds(120)
        let db = made
        let pool = Task { [db] in await db.run() }
        defer { pool.cancel() }

        // Two connections open: both calls hold one at once.
        let options = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    try await db.read { c in
                        try await c.execute("SELECT pg_sleep(0.5)")
                        let ch = try #require(PGSocketOptions.channel(of: c.connection), "the driver's channel is found")
                        let tcp = SocketOptionLevel(IPPROTO_TCP)
                        return [
                            try await ch.getOption(.socketOption(.so_keepalive)).get(),
                            try await ch.getOption(.socket(tcp, SocketOptionName(TCP_KEEPIDLE))).get(),
                            try await ch.getOption(.socket(tcp, SocketOptionName(TCP_USER_TIMEOUT))).get(),
                        ]
                    }
                }
            }
            return try await group.reduce(into: [[Int]]()) { $0.append($1) }
        }
        #expect(options.count == 2 && options.allSatisfy { $0[0] != 0 && $0[1] == PGSocketOptions.keepIdle && $0[2] == PGSocketOptions.userTimeoutMilliseconds },
            "keepalive and user timeout on each connection: \(options)")

        let waiting = Self.apart { try await db.read { c in try await c.execute("SELECT pg_sleep(600)") } }
        let sleeping = await eventually(seconds: 30) {
            Spawn.run(["/usr/bin/psql", "-X", "-q", "-tA", "-h", pg.dir, "-p", String(pg.port), "-U", "postgres", "-d", "postgres", "-c",
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"]).out.hasPrefix("1")
        }
        #expect(sleeping, "the statement is under way")
        #expect(net.cut(), "the namespace's link went down")
        let cut = ContinuousClock.now
        let sent = Self.apart { try await db.read { c in try await c.execute("SELECT 1") } }

        let bound = Duration.seconds(90)  // keepalive: 10 s + 3 × 5 s; user timeout 20 s; room for a loaded machine
        _ = await eventually(seconds: 100, every: .milliseconds(200)) { waiting.result.at != nil && sent.result.at != nil }
        for (what, o) in [("a statement waiting for its answer", waiting), ("a statement sent after the cut", sent)] {
            let (error, at) = o.result
            #expect(at != nil && at! - cut < bound, "\(what) ended \(at.map { "after \($0 - cut)" } ?? "never")")
            #expect(error is StoreUnavailable, "\(what): \(error.map { "\(type(of: $0)): \($0)" } ?? "an answer")")
        }
    }
}
