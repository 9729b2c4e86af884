import Foundation
import GRDB
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Per-operation audit alerts and the daily digest, through the API and the scheduler's calls:
/// the chosen operations raise one notice each, once, and the digest goes out once a day.
@Suite struct AuditAlertTests {
    static func outbox(_ h: Harness, _ event: String) async throws -> [String] {
        try await h.custody.sqlite!.read { db in
            try String.fetchAll(db, sql: "SELECT subject FROM notifications WHERE event = ? ORDER BY createdAt", arguments: [event])
        }
    }

    @Test func chosenOperationsRaiseOneAlertEachAndTheDigestGoesOutDaily() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let uid = try #require(try await api.call(.get, "/users", token: admin).array.first?["id"] as? String)
            try await api.call(.patch, "/users/\(uid)", token: admin, json: ["email": "root@example.test"])
            #expect(try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "127.0.0.1", "port": 1, "security": "none", "from": "custody@example.test"]]).status == .noContent)
            let pa = try await api.user("alert-pa", role: "passwordAdministrator", adminToken: admin)
            #expect(try await api.call(.put, "/settings/audit-alerts", token: pa, json: ["operations": ["retrieve_password"]]).status == .forbidden)
            let plain = try await api.user("alert-admin", role: "administrator", adminToken: admin)
            #expect(try await api.call(.put, "/settings/audit-alerts", token: plain, json: ["operations": []]).status == .forbidden,
                "an administrator who is not a super-administrator cannot switch the alerts off")
            #expect(try await api.call(.put, "/settings/audit-alerts", token: admin, json: ["operations": ["notification_failed"]]).errorCode == "invalid_field")
            #expect(try await api.call(.put, "/settings/audit-alerts", token: admin, json: ["operations": ["Retrieve Password"]]).errorCode == "invalid_field")
            #expect(try await api.call(.put, "/settings/audit-alerts", token: admin, json: ["operations": [], "digestAt": "25:00"]).errorCode == "invalid_field")
            let rid = try await api.resource("alerted", token: admin)
            let aid = try await api.account(rid, "svc_alert", password: "Alert-Pass-1234!", token: admin)
            _ = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin)  // before the alerts: no notice
            let saved = try await api.call(.put, "/settings/audit-alerts", token: admin,
                json: ["operations": ["retrieve_password", "create_user"], "digestAt": "07:00"])
            #expect(saved.status == .noContent, "\(saved.text)")
            #expect(try await api.call(.get, "/settings/audit-alerts", token: pa).object["digestAt"] as? String == "07:00")
            for _ in 0..<2 { _ = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin) }
            _ = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "local", "newPassword": "Alert-Pass-5678!"])
            #expect(try await h.custody.auditAlerts.scan() == 3, "the two retrievals, and the change of the settings itself")
            #expect(try await h.custody.auditAlerts.scan() == 0, "each record alerts once")
            let alerts = try await Self.outbox(h, "audit_alert")
            #expect(alerts.sorted() == ["Audit: retrieve_password by admin (success)", "Audit: retrieve_password by admin (success)",
                "Audit: save_audit_alerts by admin (success)"], "\(alerts)")
            // Many of one operation in one look: one notice.
            for _ in 0..<6 { _ = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin) }
            #expect(try await h.custody.auditAlerts.scan() == 6)
            #expect(try await Self.outbox(h, "audit_alert").count == 4)
            #expect(try await Self.outbox(h, "audit_alert").last == "Audit: retrieve_password by admin (6 records)")
            #expect(!(try await h.custody.sqlite!.read { db in try String.fetchAll(db, sql: "SELECT body FROM notifications") }.joined()).contains("Alert-Pass"))

            let started = clock.now
            var sent = 0
            for _ in 0..<(3 * 24) {
                if try await h.custody.auditAlerts.digestDue(startedAt: started) { sent += 1 }
                clock.advance(3600)
            }
            #expect(sent == 3, "one digest a day")
            let digest = try await h.custody.sqlite!.read { db in
                try String.fetchAll(db, sql: "SELECT body FROM notifications WHERE event = 'audit_digest'")
            }
            #expect(digest.count == 3 && digest[0].contains("retrieve_password: 9"), "\(digest.first ?? "")")
        }
    }
}
