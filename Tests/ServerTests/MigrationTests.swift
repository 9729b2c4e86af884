import Foundation
import GRDB
import Testing

@testable import Server

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
}
