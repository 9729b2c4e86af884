import Foundation
import Logging
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// A node that still holds the old master key after `custody key rotate --store-url` (started
/// during the rotation, or never stopped) writes nothing more and fails its health check, where it
/// would have sealed passwords no other node could open.
@Suite struct PGKeyGuardTests {
    @Test func aNodeHoldingTheOldKeyWritesNothingOnceTheKeyWasRotated() async throws {
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-keyguard-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keyPath = dir + "/master.key"
        var logger = Logger(label: "test.keyguard")
        logger.logLevel = .critical
        let name = try await PGTestDatabase.create()

        func open() async throws -> PGStore { try await PGStore.open(try PGTestDatabase.make(name: name), auditKey: AuditKeyBox()) }
        func node() async throws -> PGStore {
            let store = try await open()
            let vault = try await VaultOpener.open(records: store.vaultRecords, auditKey: store.auditKey, keyPath: keyPath, logger: logger)
            store.db.keyGuard.expect(vault.masterKey.id)
            return store
        }
        let old = try await node()
        try await old.db.write { c in try await c.execute("SELECT 1") }
        try await PGClusterStore(db: old.db).ping()

        // The rotation, as the command runs it: its own connections, no key expected.
        let rotation = try await open()
        let current = try await VaultOpener.open(records: rotation.vaultRecords, auditKey: rotation.auditKey, keyPath: keyPath, logger: logger)
        _ = try await KeyRotation.run(keyPath: keyPath, current: current) { reseal in try await rotation.vaultRecords.resealAll(reseal) }

        await #expect(throws: StoreUnavailable.self, "a write with the old key is refused") {
            try await old.db.write { c in try await c.execute("SELECT 1") }
        }
        await #expect(throws: StoreUnavailable.self, "its health check fails") { try await PGClusterStore(db: old.db).ping() }
        let health = await ClusterService(store: PGClusterStore(db: old.db), authorizer: Authorizer(), node: "old", version: "t", kind: "postgres",
            startedAt: Date()).health()
        #expect(!health.ok && health.text.contains("database=other-master-key"), "\(health.text)")
        let restarted = try await node()
        try await restarted.db.write { c in try await c.execute("SELECT 1") }
        try await PGClusterStore(db: restarted.db).ping()
    }
}
