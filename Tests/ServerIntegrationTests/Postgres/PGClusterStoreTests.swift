import Foundation
import Logging
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Several nodes on one real PostgreSQL database: each "node" here is its own connection pool, as
/// each `custody serve` process has one.
@Suite struct PGClusterStoreTests {
    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "root", ip: "127.0.0.1", operation: op) }

    /// Nodes sharing one migrated database and one audit key (all nodes read the same master key).
    static func nodes(_ n: Int) async throws -> [PGStore] {
        let name = try await PGTestDatabase.create()
        var out: [PGStore] = []
        for _ in 0..<n { out.append(try await PGTestDatabase.store(name: name)) }
        #expect(Set(out.map { $0.auditKey.key }).count == 1, "every node opened the key the first one made")
        return out
    }

    @Test func migrationsApplyOnceWhenNodesStartTogether() async throws {
        let name = try await PGTestDatabase.create(migrated: false)
        let dbs = try (0..<3).map { _ in try PGTestDatabase.make(name: name, connections: 2) }
        let applied = try await withThrowingTaskGroup(of: [String].self) { group in
            for db in dbs { group.addTask { try await PGMigrations.migrate(db) } }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        #expect(applied.filter { !$0.isEmpty } == [PGMigrations.all.map(\.id)], "one node applied every migration, the others none")
        let recorded = try await dbs[0].read { c in try await c.column(String.self, "SELECT id FROM custody_migrations ORDER BY id") }
        #expect(recorded == PGMigrations.all.map(\.id).sorted())
        #expect(try await PGMigrations.migrate(dbs[1]).isEmpty, "a restart applies nothing")
    }

    @Test func theAuditTrailRefusesUpdateDeleteAndTruncate() async throws {
        let store = try await PGTestDatabase.store()
        try await store.audit.append(Self.event("kept"))
        for sql in ["UPDATE audit SET operation = 'edited'", "DELETE FROM audit", "TRUNCATE audit"] {
            await #expect(throws: PGError.self, "\(sql) is refused") { try await store.db.write { c in try await c.execute(sql) } }
        }
        #expect(try await store.db.read { c in try await c.column(String.self, "SELECT operation FROM audit") } == ["kept"])
        #expect(try await store.db.read { c in try await store.auditLog.verify(c) }.ok)
    }

    @Test func theChainStaysLinearWhenNodesAppendTogether() async throws {
        let nodes = try await Self.nodes(3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (n, node) in nodes.enumerated() {
                group.addTask { for i in 0..<30 { try await node.audit.append(Self.event("n\(n)-\(i)")) } }
            }
            try await group.waitForAll()
        }
        let result = try await nodes[1].db.read { c in try await nodes[1].auditLog.verify(c) }
        #expect(result.ok, "\(result.problem ?? "")")
        #expect(result.checked == 90)
        let ids = try await nodes[2].db.read { c in try await c.column(Int64.self, "SELECT id FROM audit ORDER BY id") }
        #expect(ids == Array(1...90))
    }

    @Test func verifyFindsARecordEditedBehindTheTriggersBack() async throws {
        let name = try await PGTestDatabase.create()
        let store = try await PGTestDatabase.store(name: name)
        for i in 0..<3 { try await store.audit.append(Self.event("op\(i)")) }
        // Only a superuser can do this: turn the trigger off and edit a record.
        #expect(await PGTestDatabase.offPool {
            PostgresServer.root("ALTER TABLE audit DISABLE TRIGGER auditNoChange; UPDATE audit SET operation = 'forged' WHERE id = 2;", database: name)
        })
        let result = try await store.db.read { c in try await store.auditLog.verify(c) }
        #expect(result.firstBad == 2 && result.problem?.contains("altered") == true)
    }

    @Test func aNonceTakenThroughOneNodeIsAReplayOnAnother() async throws {
        let nodes = try await Self.nodes(2)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await nodes[0].db.write { c in try await c.insert(StoreBackend.agent("a-1", at: t), into: "agents") }
        #expect(try await nodes[0].agents.recordContact(agentID: "a-1", nonce: "a-1:n", at: t, pruneBefore: nil))
        #expect(try await nodes[1].agents.recordContact(agentID: "a-1", nonce: "a-1:n", at: t.addingTimeInterval(1), pruneBefore: nil) == false)
    }

    @Test func aTokenIssuedThroughOneNodeWorksOnAnotherAndARevocationReachesBoth() async throws {
        let nodes = try await Self.nodes(2)
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let user = UserRecord(id: "u-1", username: "Ana", passwordHash: "x", role: .administrator, superAdmin: false, email: nil,
            mustChangePassword: false, createdAt: t)
        #expect(try await nodes[0].identities.addFirstUser(user, audit: Self.event("user_created")))
        #expect(try await nodes[1].identities.user(named: "ana")?.id == "u-1", "names match in any case")
        let token = TokenRecord(id: "t-1", userId: "u-1", name: "cli", kind: .api, hash: "h-1", createdAt: t, expiresAt: nil, revokedAt: nil,
            lastUsedAt: nil)
        try await nodes[0].identities.addToken(token, audit: nil)
        #expect(try await nodes[1].identities.token(hash: "h-1")?.0.revokedAt == nil)
        #expect(try await nodes[1].identities.revoke(tokenID: "t-1", at: t.addingTimeInterval(5), audit: Self.event("token_revoked")))
        #expect(try await nodes[0].identities.token(hash: "h-1")?.0.revokedAt == t.addingTimeInterval(5))
    }

    /// Names compare as on SQLite (ASCII letters without case); the width and invisible characters
    /// PostgreSQL's case-insensitive collation also ignores never lead to another user.
    @Test func aLookalikeNameIsNotTheUser() async throws {
        let store = try await PGTestDatabase.store()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let alice = UserRecord(id: "u-alice", username: "alice", passwordHash: "x", role: .passwordUser, superAdmin: false, email: nil,
            mustChangePassword: false, createdAt: t)
        try await store.users.add(alice, audit: Self.event("user_created"))
        #expect(try await store.identities.user(named: "ALICE")?.id == "u-alice")
        for lookalike in ["\u{FF41}\u{FF4C}\u{FF49}\u{FF43}\u{FF45}", "ali\u{00AD}ce", "al\u{200B}ice"] {
            #expect(try await store.identities.user(named: lookalike) == nil, "\(lookalike.unicodeScalars.map { String($0.value, radix: 16) })")
            await #expect(throws: StoreError.self) {
                try await store.userGroups.create(id: newID(), name: "g-" + newID(), members: [lookalike], audit: Self.event("group"))
            }
        }
    }
}
