import Foundation
import Logging
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Wake-ups between two in-process nodes on one real PostgreSQL database, through the triggers'
/// `NOTIFY` and each node's `PGNotifications`.
@Suite struct PGNotificationsTests {
    /// A node: a `Custody` on its own pool of the shared database, its listener running.
    static func node(_ id: String, database: String, vault: Vault) async throws -> (Custody, Task<Void, any Error>) {
        let store = try await PGTestDatabase.store(name: database, vault: vault)
        var config = ServerConfiguration()
        config.dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-node-\(UUID().uuidString)").path
        var logger = Logger(label: "test.node")
        logger.logLevel = .warning
        let custody = Custody(config: config, backend: .postgres(store, PGNode(id: id, version: "test")), vault: vault, logger: logger)
        let listener = Task { try await PGNotifications(db: store.db, custody: custody).run() }
        return (custody, listener)
    }

    /// Nodes a and b on a new database, their listeners running, and a's store.
    static func twoNodes() async throws -> (Custody, Custody, PGStore, [Task<Void, any Error>]) {
        let name = try await PGTestDatabase.create()
        let vault = Vault(masterKey: MasterKey.generate())
        let (a, la) = try await node("a", database: name, vault: vault)
        let (b, lb) = try await node("b", database: name, vault: vault)
        guard case .postgres(let store, _) = a.backend else { throw PGTestDatabase.Unavailable() }
        return (a, b, store, [la, lb])
    }

    @Test func aJobQueuedThroughOneNodeWakesTheAgentsPollOnAnother() async throws {
        let (a, b, store, listeners) = try await Self.twoNodes()
        defer { for l in listeners { l.cancel() } }
        let t0 = Date()
        try await store.db.write { c in try await c.insert(StoreBackend.agent("agent-1", at: t0), into: "agents") }
        // Each listener pokes everything once it listens.
        for _ in 0..<200 where a.taskChanged.current == 0 || b.taskChanged.current == 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(a.taskChanged.current > 0 && b.taskChanged.current > 0, "both nodes listen")

        let poll = b.agentHub.signal("agent-1")
        let seen = poll.current
        #expect(try await store.agentJobs.enqueue(StoreBackend.job("j-1", agent: "agent-1", at: t0)))
        await poll.wait(after: seen, timeout: .seconds(10))
        #expect(poll.current != seen, "node b's long poll for agent-1 was woken by node a's job")

        let changed = b.taskChanged
        let before = changed.current
        try await store.db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u', 'ana', 'x', 'administrator', 0)")
            try await c.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES ('r', 'r', 'h', 'Linux', 'u', 0, 0)")
            try await c.execute("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES ('acc', 'r', 'svc', 0)")
            try await c.execute("""
                INSERT INTO tasks(id, kind, state, phase, via, resourceId, accountId, host, requestedBy, createdAt)
                VALUES ('t-1', 'verify', 'queued', 'queued', 'plugin', 'r', 'acc', 'h', 'ana', 0)
                """)
        }
        await changed.wait(after: before, timeout: .seconds(10))
        #expect(changed.current != before, "node b heard of the task node a queued")
    }

    /// The login throttle counts the attempts made through every node: failures on node a lock the
    /// name at that address on node b too, a node counts its own failures once and forged notices
    /// not at all, and a sign-in through a clears the name at that address on b.
    @Test func failedLoginsThroughOneNodeCountOnEvery() async throws {
        let (a, b, store, listeners) = try await Self.twoNodes()
        defer { for l in listeners { l.cancel() } }
        let hash = try await PasswordHashing.hash("Right-Pass-2026!", cost: 4)
        try await store.db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u', 'ana', ?, 'passwordUser', 0)", [hash])
        }
        #expect(await eventually { a.taskChanged.current > 0 && b.taskChanged.current > 0 }, "both nodes listen")
        // Each node reads the stored failures back once; what it hears before that, the read includes.
        try await a.identity.restoreThrottle()
        try await b.identity.restoreThrottle()
        let ip = "10.0.0.9"
        let ana = Tokens.hash("ana")
        func attempt(_ node: Custody, _ password: String) async -> String {
            do {
                _ = try await node.identity.login(username: "ana", password: Secret(password), ip: ip)
                return "ok"
            } catch let e as DomainError { return e.code } catch { return "\(error)" }
        }
        func count(_ node: Custody, _ who: String) -> Int { node.loginThrottle.failures(name: who, address: ip, at: Date().seconds) }

        for _ in 0..<3 { #expect(await attempt(a, "Wrong-1") == "invalid_credentials") }
        #expect(await eventually { count(b, ana) == 3 }, "b heard a's failures: \(count(b, ana))")
        // Notices any database role can send, unsealed: ignored.
        let forged = #"{"kind":"failed","name":"\#(ana)","address":"\#(ip)","at":\#(Date().seconds),"node":"x"}"#
        for _ in 0..<10 { try await store.db.read { c in try await c.execute("SELECT pg_notify(?, ?)", [LoginNotices.channel, forged]) } }
        // A barrier: b's failure for another name reaches a after a's own three were told and the forgeries sent.
        _ = try? await b.identity.login(username: "bo", password: Secret("Wrong-1"), ip: ip)
        #expect(await eventually { count(a, Tokens.hash("bo")) == 1 }, "a heard b's failure")
        #expect(count(a, ana) == 3, "a counts its own failures once and no forged one: \(count(a, ana))")

        #expect(await attempt(a, "Right-Pass-2026!") == "ok", "a sign-in through a")
        #expect(await eventually { count(b, ana) == 0 }, "b cleared the name at that address: \(count(b, ana))")

        let limit = a.config.lockoutThreshold
        for _ in 0..<limit { #expect(await attempt(a, "Wrong-2") == "invalid_credentials") }
        #expect(await attempt(a, "Right-Pass-2026!") == "account_locked")
        #expect(await eventually { count(b, ana) == limit })
        #expect(await attempt(b, "Right-Pass-2026!") == "account_locked", "locked on b by failures made through a")
    }

    /// A run that ended without its last write (the database away) is handed back by its node, to
    /// run again after `resetRetrySeconds`, not at once: a statement that breaks its connection
    /// every time is not retried every second.
    @Test func aTaskWhoseRunEndedWithoutItsLastWriteRunsAgainAfterABackOff() async throws {
        let name = try await PGTestDatabase.create()
        let vault = Vault(masterKey: MasterKey.generate())
        let (a, la) = try await Self.node("a", database: name, vault: vault)
        defer { la.cancel() }
        guard case .postgres(let store, _) = a.backend else { Issue.record("postgres"); return }
        try await store.db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u', 'ana', 'x', 'administrator', 0)")
            try await c.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES ('r', 'r', 'h', 'Linux', 'u', 0, 0)")
            try await c.execute("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES ('acc', 'r', 'svc', 0)")
            try await c.execute("""
                INSERT INTO tasks(id, kind, state, phase, via, resourceId, accountId, host, requestedBy, createdAt, claimedBy)
                VALUES ('t-1', 'reset', 'running', 'queued', 'plugin', 'r', 'acc', 'h', 'ana', 0, 'a')
                """)
        }
        let before = Date().seconds
        await a.engine.settle("t-1")
        let t = try #require(try await a.engine.store.task("t-1"))
        #expect(t.state == .queued, "nothing was sent: queued again")
        #expect(t.notBefore >= before + a.config.resetRetrySeconds - 1, "after the back-off: \(t.notBefore - before) s")
    }

    /// A node sends a new password only while its heartbeat keeps its lease: the reset engine's
    /// hook reads the lease the heartbeat renews, also after the server rebuilt itself with its
    /// device dialects (which once left the engine on a lease nobody renewed).
    @Test func theEngineChecksTheLeaseTheHeartbeatRenews() async throws {
        let name = try await PGTestDatabase.create()
        let (first, listener) = try await Self.node("a", database: name, vault: Vault(masterKey: MasterKey.generate()))
        defer { listener.cancel() }
        let custody = try first.withDialects(nil)
        let task = TaskRecord(id: "t", kind: .reset, state: .running, phase: .changing, via: "plugin", resourceId: "r", accountId: "a", host: "h",
            requestedBy: "ana", requestedById: nil, newPasswordGiven: false, pendingSecretId: nil, attempts: 0, resultCode: nil, resultMessage: nil,
            reason: nil, ticketId: nil, createdAt: Date(), startedAt: nil, finishedAt: nil, notBefore: 0)
        let hook = try #require(custody.engine.faults.transport(task))
        #expect(throws: ResetFailure.self, "no heartbeat yet: nothing is sent") { try hook.fault(at: .beforeSend) }
        custody.nodeLease?.renew()
        #expect(throws: Never.self) { try hook.fault(at: .beforeSend) }
        custody.nodeLease?.renew(at: .now - .seconds(16))
        #expect(throws: ResetFailure.self, "renewed 16 s ago, half a 30 s lease has passed") { try hook.fault(at: .beforeSend) }
    }
}
