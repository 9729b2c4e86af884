import Crypto
import Foundation
import GRDB
import Testing

@testable import Server

/// Retrievals and lone audit records committed in groups; the audit chain's digest made faster;
/// bearer tokens' callers remembered until tokens or users change.
@Suite struct GroupCommitTests {
    static func store() throws -> (Store, String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = try Store.open(path: dir + "/vault.db")
        let key = Data((0..<32).map { UInt8($0) })
        store.auditKey.set(key)
        try store.db.write { db in try AuditHead.write(id: 0, hash: AuditEntry.genesis, key: key, db) }
        return (store, dir)
    }

    static func event(_ n: Int) -> AuditEvent { AuditEvent(user: "u\(n)", ip: "t", operation: "retrieve_password", message: "\(n)") }

    /// Writes queued while the writer is busy go in one transaction; each caller gets its own answer.
    @Test func unitsQueuedBehindABusyWriterCommitTogetherAndKeepTheChain() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let gate = DispatchSemaphore(value: 0)
        let busy = Task.detached { try await store.db.write { _ in gate.wait() } }
        try await Task.sleep(for: .milliseconds(50))
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<40 {
                group.addTask { try await store.appends.perform { _ in (n, Self.event(n)) } }
            }
            // One leads and waits for the writer; the other 39 queue behind it.
            for _ in 0..<500 where store.appends.waiting < 39 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(store.appends.waiting == 39)
            gate.signal()
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        try await busy.value
        #expect(results.sorted() == Array(0..<40))
        let (count, times) = try await store.db.read { db in
            (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") ?? 0, try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT at) FROM audit") ?? 0)
        }
        #expect(count == 40)
        #expect(times == 2, "the leader's transaction, then one for the 39 that waited")
        let verified = try await store.db.read { db in try AuditVerifier.verify(db) }
        #expect(verified.checked == 40 && verified.firstBad == nil)
    }

    /// A unit that throws gets its error; the others commit.
    @Test func aUnitsErrorIsItsOwn() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        struct Refused: Error {}
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for n in 0..<20 {
                group.addTask {
                    do {
                        _ = try await store.appends.perform { _ -> (Int, AuditEvent?) in
                            if n % 5 == 0 { throw Refused() }
                            return (n, Self.event(n))
                        }
                        return true
                    } catch { return !(error is Refused) }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 }.count == 16)
        #expect(try await store.db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit") } == 16)
    }

    /// The digest is the one stored records were chained with (the formatter it replaced).
    @Test func theFasterDigestIsTheSameDigest() {
        func reference(key: Data, prev: String, id: Int64, at: Double, fields: [String?]) -> String {
            var h = HMAC<SHA256>(key: SymmetricKey(data: key))
            let parts = [prev, String(id), String(format: "%.6f", at)] + fields.map { $0.map { "s:" + $0 } ?? "nil" }
            for part in parts {
                let bytes = Array(part.utf8)
                h.update(data: withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { Data($0) })
                h.update(data: bytes)
            }
            return h.finalize().map { String(format: "%02x", $0) }.joined()
        }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let raw = Double.random(in: 0..<2_000_000_000, using: &rng)
            let at = (raw * 1_000_000).rounded() / 1_000_000
            #expect(AuditEntry.stamp(at) == String(format: "%.6f", at), "\(at)")
        }
        for at in [0, 1e-6, 0.5, 1_765_000_000.000001, 1_765_000_000.999999, 1_765_000_000.1234567, -1, 3_999_999_999.999999, 4e9,
            41_487_467_409.927994, 9.1e9]
        {
            #expect(AuditEntry.stamp(at) == String(format: "%.6f", at), "\(at)")
        }
        let key = Data((0..<32).map { UInt8($0 * 3) })
        let fields: [String?] = ["ana", nil, "retrieve_password", "é ü", "", nil, "x:y"]
        #expect(AuditEntry.digest(key: key, prev: AuditEntry.genesis, id: 42, at: 1_765_123_456.654321, fields: fields)
            == reference(key: key, prev: AuditEntry.genesis, id: 42, at: 1_765_123_456.654321, fields: fields))
    }

    /// A revocation or a disabled user is seen by the next request: any change to tokens or users
    /// empties the cache, and a read begun before the change cannot put its old answer back.
    @Test func aChangeToTokensOrUsersEmptiesTheTokenCache() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = store.identities
        let user = UserRecord(id: "u1", username: "ana", passwordHash: "x", role: .passwordUser, superAdmin: false, email: nil,
            mustChangePassword: false, createdAt: Date())
        let token = TokenRecord(id: "t1", userId: "u1", name: "s", kind: .api, hash: "h1", createdAt: Date(), expiresAt: nil, revokedAt: nil)
        try await store.db.write { db in
            try user.insert(db)
            try token.insert(db)
        }
        #expect(try await ids.token(hash: "h1")?.0.revokedAt == nil)
        #expect(store.tokens.get("h1") != nil, "remembered")
        let before = store.tokens.generation
        try await store.db.write { db in try db.execute(sql: "UPDATE tokens SET revokedAt = 1 WHERE id = 't1'") }
        #expect(store.tokens.get("h1") == nil)
        #expect(try await ids.token(hash: "h1")?.0.revokedAt != nil)
        store.tokens.put("h2", .init(token: token, user: user), generation: before)
        #expect(store.tokens.get("h2") == nil, "an answer read before the change is not kept")
        _ = try await ids.token(hash: "h1")
        try await store.db.write { db in
            try db.execute(sql: "UPDATE users SET passwordHash = ? WHERE id = 'u1'", arguments: [UserRecord.directoryDisabledMarker])
        }
        #expect(store.tokens.get("h1") == nil)
        #expect(try await ids.token(hash: "h1")?.1.isDisabled == true)
        try await store.db.write { db in try db.execute(sql: "UPDATE settings SET value = value WHERE key = 'audit.head'") }
        #expect(store.tokens.get("h1") != nil, "other tables leave it")
    }

    /// An agent's record is remembered across its polls (its last contact does not count), and
    /// forgotten when it is revoked; an unknown id is remembered as unknown until an agent is added.
    @Test func anAgentIsRememberedUntilItChanges() async throws {
        let (store, dir) = try Self.store()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let agents = store.agents
        #expect(try await agents.agent("a1") == nil)
        #expect(store.unknownAgents.get("a1") != nil, "unknown, remembered")
        try await store.db.write { db in
            try db.execute(sql: """
                INSERT INTO agents(id, hostname, os, arch, version, signingKey, sealingKey, enrolledAt, lastSeenAt)
                VALUES ('a1', 'h', 'linux', 'x86_64', '1', x'00', x'00', 0, 0)
                """)
        }
        #expect(try await agents.agent("a1")?.id == "a1", "an insert empties the cache")
        #expect(try await agents.recordContact(agentID: "a1", nonce: "n1", at: Date(), pruneBefore: nil))
        #expect(try await !agents.recordContact(agentID: "a1", nonce: "n1", at: Date(), pruneBefore: nil), "a replay")
        #expect(store.agentCache.get("a1") != nil, "a contact leaves it")
        try await store.db.write { db in try db.execute(sql: "UPDATE agents SET revokedAt = 1 WHERE id = 'a1'") }
        #expect(try await agents.agent("a1")?.revokedAt != nil)
    }
}
