import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `VaultStore` must do: the audit key is made once and read back after;
/// re-sealing reaches every sealed password (each with its own identity) in one transaction, and a
/// stop midway changes nothing.
@Suite struct VaultStoreConformance {
    struct Stop: Error {}

    @Test(arguments: StoreBackend.names)
    func theAuditKeyIsMadeOnceAndResealingIsAllOrNothing(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        // The harness opened its vault: the canary and the audit key exist.
        let (canary, _) = try b.vaultRecords.canary()
        #expect(canary != nil)
        let key = try b.vaultRecords.auditKey(open: { _ in Data([1]) }, create: { Issue.record("made twice"); return (Data(), Data()) })
        #expect(key == Data([1]))
        try await b.addUser("u-ana", "ana")
        let f = try await TaskStoreConformance.fixture(b)
        try await b.setPassword(f.aid, Secret("First-Pass-1!"))
        try await b.setPassword(f.aid, Secret("Second-Pass-1!"))
        let before = try b.vaultRecords.canary().passwords
        #expect(before == 2)
        let seen = Seen()
        #expect(throws: Stop.self) {
            _ = try b.vaultRecords.resealAll({ sealed, identity in
                seen.add(identity)
                return sealed + Data([0])
            }, progress: { n, _ in if n == 1 { throw Stop() } })
        }
        #expect(try b.vaultRecords.canary().sealed == canary, "a stop midway changes nothing")
        let count = try b.vaultRecords.resealAll({ sealed, identity in
            seen.add(identity)
            return sealed
        }, progress: { _, _ in })
        #expect(count == 2)
        #expect(Set(seen.values).count >= 4, "each password, the canary and the audit key have their own identity")
    }
}
