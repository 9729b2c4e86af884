import Foundation
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AuditPurgeStore` must do: a purge removes a prefix of the trail, leaves a
/// checkpoint the chain verifies from and its own record; a stale plan changes nothing; a second
/// purge chains to the first; a rewritten checkpoint breaks the chain.
@Suite struct AuditPurgeConformance {
    @Test(arguments: StoreBackend.names("audit"))
    func aPurgeRemovesAPrefixAndTheRestStillVerifies(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for i in 1...3 { try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "old\(i)")) }
        try await Task.sleep(for: .milliseconds(20))
        let cut = Date()
        try await Task.sleep(for: .milliseconds(20))
        for i in 1...2 { try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "new\(i)")) }
        #expect(try await b.auditVerify().ok)
        let plan = try #require(try await b.auditPurge.purgePlan(before: cut))
        let before = try await b.auditOperations()
        #expect(plan.firstId == 1 && plan.count == before.firstIndex(of: "new1"), "\(plan) \(before)")
        let archive = TestTargets.scratchURL.appendingPathComponent("archive-\(UUID().uuidString).jsonl").path
        let header = AuditArchive.Header(firstId: plan.firstId, lastId: plan.lastId, count: plan.count, prevHash: plan.prevHash, lastHash: plan.lastHash,
            before: cut, createdAt: Date())
        let key = try #require(b.auditKey)
        _ = try await AuditArchive.write(to: archive, header: header, key: key) { after in try await b.auditPurge.records(after: after, limit: 2) }
        let read = try AuditArchive.verify(path: archive, key: b.auditKey).header
        #expect(read.count == header.count && read.lastHash == header.lastHash && read.prevHash == header.prevHash)
        let removed = try await b.auditPurge.purge(plan, audit: AuditEvent(user: "root", ip: "r", operation: "purge_audit"))
        #expect(removed == plan.count)
        #expect(try await b.auditOperations() == ["new1", "new2", "purge_audit"])
        let chain = try await b.auditVerify()
        #expect(chain.ok && chain.checked == 3, "\(chain)")
        await #expect(throws: DomainError.self) { try await b.auditPurge.purge(plan, audit: AuditEvent(user: "root", ip: "r", operation: "purge_audit")) }
        #expect(try await b.auditOperations() == ["new1", "new2", "purge_audit"], "a stale plan changes nothing")

        try await Task.sleep(for: .milliseconds(20))
        let second = try #require(try await b.auditPurge.purgePlan(before: Date()))
        #expect(second.prevHash == plan.lastHash && second.firstId == plan.lastId + 1, "the next archive chains to the last")
        _ = try await b.auditPurge.purge(second, audit: AuditEvent(user: "root", ip: "r", operation: "purge_audit"))
        #expect(try await b.auditVerify().ok)
        try await b.setSetting(AuditCheckpoint.key, "\(second.lastId):\(second.lastHash):forged")
        #expect(try await b.auditVerify().ok == false, "a rewritten checkpoint is a break")
    }
}
