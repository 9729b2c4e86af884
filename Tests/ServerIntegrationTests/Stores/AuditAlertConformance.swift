import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AuditAlertStore` must do: settings round-trip; alerts begin after the
/// settings are saved; each record is looked at once; the digest's mark is kept.
@Suite struct AuditAlertConformance {
    @Test(arguments: StoreBackend.names("audit"))
    func eachRecordIsLookedAtOnceFromWhenTheAlertsAreSet(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "before_settings"))
        let settings = AuditAlertSettings(operations: ["retrieve_password"], digestAt: "07:00")
        try await b.auditAlerts.saveAlertSettings(settings, audit: AuditEvent(user: "root", ip: "r", operation: "save_settings"))
        #expect(try await b.auditAlerts.alertSettings() == settings)
        for op in ["retrieve_password", "create_user", "retrieve_password"] { try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: op)) }
        let seen = Seen()
        #expect(try await b.auditAlerts.raiseAlerts(limit: 2) { rows, _ in seen.add(rows.map(\.operation)); return [] } == 2)
        #expect(try await b.auditAlerts.raiseAlerts(limit: 2) { rows, _ in seen.add(rows.map(\.operation)); return [] } == 2)
        #expect(try await b.auditAlerts.raiseAlerts(limit: 2) { rows, _ in seen.add(rows.map(\.operation)); return [] } == 0)
        #expect(seen.all == ["save_settings", "retrieve_password", "create_user", "retrieve_password"], "from the save's own record on: \(seen.all)")
        #expect(try await b.auditAlerts.lastDigest() == nil)
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await b.auditAlerts.sendDigest(NotificationFacts(.auditDigest), at: at, previous: nil))
        #expect(try await b.auditAlerts.lastDigest() == at)
        #expect(try await b.auditAlerts.sendDigest(NotificationFacts(.auditDigest), at: at, previous: nil) == false, "another node sent it already")
        #expect(try await b.auditAlerts.operationCounts(since: Date(timeIntervalSince1970: 0))["retrieve_password"] == 2)
    }

    final class Seen: @unchecked Sendable {
        private let lock = NSLock()
        private var ops: [String] = []
        func add(_ o: [String]) { lock.withLock { ops += o } }
        var all: [String] { lock.withLock { ops } }
    }
}
