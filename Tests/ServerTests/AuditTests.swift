import Foundation
import GRDB
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

@Suite struct AuditTests {
    /// A server with some history: returns the harness and the path of its database.
    func populated() async throws -> Harness {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("audited", token: admin)
            let aid = try await api.account(rid, "root", password: "Root-Pass-1", token: admin)
            _ = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin)
            _ = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": "wrong"])
        }
        return h
    }

    func sqlite(_ path: String, _ sql: String) throws {
        #expect(Spawn.run(["/usr/bin/sqlite3", path, sql]).status == 0, "sqlite3 failed: \(sql)")
    }

    func verify(_ h: Harness) async throws -> AuditVerifier.Result {
        try await h.custody.store.read { try AuditVerifier.verify($0) }
    }

    /// Someone with the database but not the vault recomputes the chain after an edit: still caught.
    @Test func aChainRecomputedWithoutTheVaultKeyIsDetected() async throws {
        let h = try await populated()
        let forger = Data(repeating: 7, count: 32)
        try await h.custody.store.write { db in
            try db.execute(sql: "DROP TRIGGER auditNoUpdate")
            try db.execute(sql: "UPDATE audit SET user = 'mallory' WHERE id = 2")
            var prev = AuditEntry.genesis
            for var e in try AuditEntry.fetchAll(db, sql: "SELECT * FROM audit ORDER BY id") {
                e.hash = AuditEntry.digest(key: forger, prev: prev, id: e.id, at: e.at, fields: e.chainFields)
                try db.execute(sql: "UPDATE audit SET prevHash = ?, hash = ? WHERE id = ?", arguments: [prev, e.hash, e.id])
                prev = e.hash
            }
            try db.execute(sql: "UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) WHERE key = 'audit.head'")
        }
        let r = try await verify(h)
        #expect(r.firstBad == 1)
    }

    @Test func anIntactTrailVerifies() async throws {
        let h = try await populated()
        let r = try await verify(h)
        #expect(r.ok)
        #expect(r.checked >= 6)
    }

    @Test func theTrailRefusesUpdatesAndDeletesThroughSQL() async throws {
        let h = try await populated()
        await #expect(throws: DatabaseError.self) {
            try await h.custody.store.write { try $0.execute(sql: "UPDATE audit SET outcome = 'x' WHERE id = 2") }
        }
        await #expect(throws: DatabaseError.self) {
            try await h.custody.store.write { try $0.execute(sql: "DELETE FROM audit WHERE id = 2") }
        }
    }

    @Test(arguments: [
        ("edit", "DROP TRIGGER auditNoUpdate; UPDATE audit SET outcome = 'failure' WHERE id = 3;", Int64(3)),
        ("delete", "DROP TRIGGER auditNoDelete; DELETE FROM audit WHERE id = 2;", Int64(3)),
        ("reorder", "DROP TRIGGER auditNoUpdate; UPDATE audit SET id = -1 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = -1;", Int64(2)),
        ("truncate", "DROP TRIGGER auditNoDelete; DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit);", Int64(-1)),
        ("empty", "DROP TRIGGER auditNoDelete; DELETE FROM audit; DELETE FROM settings WHERE key = 'audit.head';", Int64(1)),
        // The attacker cuts the tail and points the head at the new last record, as the server would.
        ("truncate and rewrite the head", """
            DROP TRIGGER auditNoDelete; DELETE FROM audit WHERE id >= (SELECT MAX(id) - 1 FROM audit);
            UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) WHERE key = 'audit.head';
            """, Int64(-2)),
        ("truncate and copy the old mac onto the new head", """
            DROP TRIGGER auditNoDelete; DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit);
            UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) || substr(value, -65)
              WHERE key = 'audit.head';
            """, Int64(-2)),
    ])
    func tamperingWithSqlite3IsDetected(kind: String, sql: String, firstBad: Int64) async throws {
        let h = try await populated()
        let total = try await h.custody.store.read { try Int64.fetchOne($0, sql: "SELECT MAX(id) FROM audit") } ?? 0
        try sqlite(h.custody.config.databasePath, sql)
        let r = try await verify(h)
        #expect(!r.ok, "\(kind) went unnoticed")
        let expected = firstBad == -1 ? total : firstBad == -2 ? nil : firstBad
        if let expected { #expect(r.firstBad == expected, "\(kind): \(r.problem ?? "")") }
        if firstBad == -2 { #expect(r.problem?.contains("not authenticated") == true, "\(kind): \(r.problem ?? "")") }
    }

    /// A head from before 0.12 (`id:hash`) is keyed only by the offline command, and only when it
    /// names the last record; the server, finding it, records the head as rewritten for good.
    @Test func aLegacyHeadIsKeyedOnlyOfflineAndAnAppendOverItRaisesTheAlarm() async throws {
        let h = try await populated()
        let legacy = "UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) WHERE key = 'audit.head';"
        try sqlite(h.custody.config.databasePath, legacy)
        #expect(try await verify(h).problem?.contains("not authenticated") == true)
        #expect(try await h.custody.store.write { try AuditHead.keyLegacy(key: try AuditLog.key($0), $0) })
        #expect(try await verify(h).ok)
        // One that does not name the last record is left alone.
        try sqlite(h.custody.config.databasePath, "UPDATE settings SET value = '1:' || (SELECT hash FROM audit WHERE id = 1) WHERE key = 'audit.head';")
        #expect(try await h.custody.store.write { try AuditHead.keyLegacy(key: try AuditLog.key($0), $0) } == false)
        // The server appends over a rewritten head: an alarm in the chain, and verify fails from then on.
        try sqlite(h.custody.config.databasePath, legacy)
        try await h.custody.auditTrail.append(AuditEvent(user: "x", ip: "y", operation: "login", outcome: "failure"))
        let r = try await verify(h)
        #expect(!r.ok && r.problem?.contains("rewritten") == true, "\(r.problem ?? "")")
    }

    /// The attack of the review: cut the newest rows (with or without pointing the head at the new
    /// last one), then let the server append anything. The gap, or the alarm, stays.
    @Test(arguments: [false, true])
    func aTruncatedTrailStaysBrokenAfterTheServerAppendsAgain(rewriteHead: Bool) async throws {
        let h = try await populated()
        var sql = "DROP TRIGGER auditNoDelete; DELETE FROM audit WHERE id >= (SELECT MAX(id) - 1 FROM audit);"
        if rewriteHead { sql += "UPDATE settings SET value = (SELECT id || ':' || hash FROM audit ORDER BY id DESC LIMIT 1) || substr(value, -65) WHERE key = 'audit.head';" }
        try sqlite(h.custody.config.databasePath, sql)
        try await h.custody.auditTrail.append(AuditEvent(user: "x", ip: "y", operation: "login", outcome: "failure"))
        try await h.custody.auditTrail.append(AuditEvent(user: "x", ip: "y", operation: "login", outcome: "failure"))
        let r = try await verify(h)
        #expect(!r.ok, "the trail verifies after a truncation and new appends")
        #expect(r.problem?.contains(rewriteHead ? "rewritten" : "missing") == true, "\(r.problem ?? "")")
    }

    /// Someone who deletes every record and the head makes a trail that looks new: caught.
    @Test func anEmptiedTrailWithItsHeadDeletedIsCaughtAfterNewAppends() async throws {
        let h = try await populated()
        try sqlite(h.custody.config.databasePath, "DROP TRIGGER auditNoDelete; DELETE FROM audit; DELETE FROM settings WHERE key = 'audit.head';")
        try await h.custody.auditTrail.append(AuditEvent(user: "x", ip: "y", operation: "login", outcome: "failure"))
        let r = try await verify(h)
        #expect(!r.ok && r.problem?.contains("rewritten") == true, "\(r.problem ?? "")")
    }
}
