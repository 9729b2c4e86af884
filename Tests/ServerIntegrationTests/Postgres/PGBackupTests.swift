import Foundation
import GRDB
import Logging
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// A backup of a PostgreSQL store: the shared database read at one instant into the backup's
/// SQLite form, restored and checked like any backup, then moved into a new PostgreSQL database
/// with `custody store migrate`'s import, where every sealed value opens and the chain verifies.
@Suite struct PGBackupTests {
    @Test func aPostgresBackupRestoresAndMigratesBackIntoAnEmptyDatabase() async throws {
        let name = try await PGTestDatabase.create()
        let vault = Vault(masterKey: MasterKey.generate())
        let store = try await PGTestDatabase.store(name: name, vault: vault)
        try await store.vaultRecords.setCanary(try vault.seal(Vault.canaryText, identity: Vault.canaryIdentity))
        let sealed = try vault.seal(Secret("Pg-Backup-Pass-1"), identity: Vault.secretIdentity(secretID: "s1", accountID: "acc"))
        let older = try vault.seal(Secret("Pg-Backup-Pass-0"), identity: Vault.secretIdentity(secretID: "s0", accountID: "acc"))
        try await store.db.write { c in
            try await c.execute("INSERT INTO users(id, username, passwordHash, role, superAdmin, createdAt) VALUES ('u', 'ana', 'x', 'administrator', 1, 0)")
            try await c.execute("INSERT INTO resources(id, name, dnsName, type, ownerId, createdAt, updatedAt) VALUES ('r', 'r', 'h', 'Linux', 'u', 0, 0)")
            try await c.execute("INSERT INTO accounts(id, resourceId, loginName, createdAt) VALUES ('acc', 'r', 'svc', 0)")
            try await c.execute("INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy) VALUES ('s0', 'acc', 'history', ?, 1, 'ana')", [older])
            try await c.execute("INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy) VALUES ('s1', 'acc', 'current', ?, 2, 'ana')", [sealed])
        }
        try await store.audit.append(AuditEvent(user: "ana", ip: "127.0.0.1", operation: "create_account", resource: "r", account: "svc"))
        var config = ServerConfiguration()
        config.dataDir = TestTargets.scratchURL.appendingPathComponent("pg-backup-\(UUID().uuidString)").path
        var logger = Logger(label: "test.pg-backup")
        logger.logLevel = .warning
        let custody = Custody(config: config, backend: .postgres(store, PGNode(id: "a", version: "test")), vault: vault, logger: logger)
        let made = try await custody.backups.make(trigger: .manual, user: "ana", ip: "127.0.0.1")
        #expect(made.counts?.secrets == 2 && made.counts?.accounts == 1, "\(made)")

        let restored = config.dataDir + "-restored"
        let file = config.resolvedBackupDir + "/" + made.name
        let r = try await Blocking.run { try BackupFiles.restore(file, into: restored, masterKey: vault.masterKey, passphrase: nil) }
        #expect(r.check?.ok == true && r.manifest.store == "postgres", "\(String(describing: r.check))")
        let order = try await DatabaseQueue(path: restored + "/custody.sqlite").read { db in
            try String.fetchAll(db, sql: "SELECT id FROM secrets ORDER BY rowid")
        }
        #expect(order == ["s0", "s1"], "a password's versions keep their order")

        // Back into an empty PostgreSQL database, as `custody store migrate` does.
        let target = try await PGTestDatabase.create(migrated: false)
        let db = try PGTestDatabase.make(name: target)
        let source = try DatabasePool(path: restored + "/custody.sqlite")
        let copy = PGImport(source: source, target: db)
        try await copy.copy(progress: { _, _, _ in })
        let report = try await copy.verify(vault: vault, auditKey: AuditKeyBox())
        #expect(report.ok && report.sealedChecked >= 4, "\(report.mismatched) \(report.unreadable) \(report.audit)")
        let audited = try await store.db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM audit WHERE operation = 'create_backup'") }
        #expect(audited == 1)
    }
}
