import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

/// Migrations that change how values are stored keep what was stored.
@Suite struct MigrationTests {
    @Test func listenerTimesWrittenAsTextBecomeSeconds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pool = try DatabasePool(path: dir.appendingPathComponent("vault.sqlite").path)
        try Migrations.migrator.migrate(pool, upTo: "v16-token-times")
        try pool.write { db in
            // What GRDB's default date encoding wrote before v17.
            try db.execute(sql: """
                INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u1', 'ana', 'x', 'administrator', 0);
                INSERT INTO listeners(id, name, kind, resourceTypes, additionalParameters, secretsVia, timeoutSeconds, status, revision,
                  authorId, approverId, approvedAt, createdAt, updatedAt)
                VALUES ('l1', 'notify', 'script', '[]', '[]', 'stdin', 5, 'active', 1, 'u1', 'u1',
                  '2027-01-15 08:00:00.250', '2027-01-15 08:00:00.000', '2027-01-15 09:30:00.000');
                INSERT INTO listenerRuns(id, listenerId, revision, resourceId, accountId, trigger, sealedSecrets, state, createdAt)
                VALUES ('r1', 'l1', 1, 'res', 'acc', 'test', x'00', 'queued', '2027-01-15 10:00:00.000');
                """)
        }
        try Migrations.migrator.migrate(pool)
        try pool.read { db in
            #expect(try String.fetchAll(db, sql: "SELECT typeof(createdAt) || typeof(updatedAt) || typeof(approvedAt) FROM listeners") == ["realrealreal"])
            let l = try #require(try ListenerRecord.fetchOne(db, key: "l1"))
            #expect(abs(l.createdAt.timeIntervalSince1970 - 1_800_000_000) < 0.001, "2027-01-15 08:00 UTC")
            #expect(abs(l.approvedAt!.timeIntervalSince(l.createdAt) - 0.25) < 0.001 && abs(l.updatedAt.timeIntervalSince(l.createdAt) - 5400) < 0.001)
            let run = try #require(try ListenerRunRecord.fetchOne(db, key: "r1"))
            #expect(abs(run.createdAt.timeIntervalSince(l.createdAt) - 7200) < 0.001)
        }
    }

    @Test func recordDatesWrittenAsTextBecomeSecondsAndNewOnesAreSeconds() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-migration-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pool = try DatabasePool(path: dir.appendingPathComponent("vault.sqlite").path)
        try Migrations.migrator.migrate(pool, upTo: "v18-run-lists")
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES ('u1', 'ana', 'x', 'administrator', '2031-03-08 05:06:14.000');
                INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt)
                VALUES ('r1', 'web', 'web', 'Linux', 'u1', '2027-01-15 08:00:00.500', 1800000001.0);
                INSERT INTO accounts(id, resourceId, loginName, syncStatus, lastChangedAt, createdAt)
                VALUES ('a1', 'r1', 'root', 'inSync', '2027-01-15 09:00:00.000', '2027-01-15 08:00:00.000');
                """)
        }
        try Migrations.migrator.migrate(pool)
        try pool.write { db in
            #expect(try Double.fetchOne(db, sql: "SELECT lastChangedAt FROM accounts") == 1_800_003_600)
            #expect(try Double.fetchOne(db, sql: "SELECT createdAt FROM users") == 1_930_712_774, "the text's millisecond, not just below it")
            #expect(try String.fetchAll(db, sql: "SELECT typeof(createdAt) || typeof(updatedAt) FROM resources") == ["realreal"])
            let r = try #require(try ResourceRecord.fetchOne(db, key: "r1"))
            #expect(abs(r.createdAt.timeIntervalSince1970 - 1_800_000_000.5) < 0.001 && r.updatedAt.timeIntervalSince1970 == 1_800_000_001)
            var g = GroupRecord(id: "g1", name: "g", ownerId: "u1", passwordPolicy: nil, createdAt: Date(timeIntervalSince1970: 1_800_000_000.25))
            try g.insert(db)
            g = try #require(try GroupRecord.fetchOne(db, key: "g1"))
            #expect(try String.fetchOne(db, sql: "SELECT typeof(createdAt) FROM groups") == "real" && g.createdAt.timeIntervalSince1970 == 1_800_000_000.25)
        }
    }
}
