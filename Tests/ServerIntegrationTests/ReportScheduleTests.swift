import Foundation
import GRDB
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The scheduled report through the API and a real SMTP server: bad settings refused, the mail
/// sent once per scheduled time, each recipient's CSV holding only what it may see.
@Suite(.needs("the test SMTP server (aiosmtpd) and rsyslogd (make deps)", MailServer.available && SyslogServer.available))
struct ReportScheduleTests {
    let n = NotificationTests()

    @Test func eachRecipientGetsTheReportsOfWhatItMaySeeOncePerTime() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:00:00Z")!.timeIntervalSince(clock.now))
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let (admin, adminEmail) = try await n.configure(api)
            let tag = NotificationTests.tag()
            let rid = try await api.resource("sched-\(tag)", token: admin)
            let shared = try await api.account(rid, "shared-\(tag)", password: "Sched-Pass-123!", token: admin)
            _ = try await api.account(rid, "hidden-\(tag)", password: "Sched-Pass-456!", token: admin)
            let pu = try await api.user("pu-\(tag)", role: "passwordUser", adminToken: admin)
            _ = try await api.user("nomail-\(tag)", role: "passwordUser", adminToken: admin)
            let puEmail = "pu-\(tag)@example.test"
            try await n.setEmail(api, "pu-\(tag)", puEmail, admin)
            #expect(try await api.call(.put, "/resources/\(rid)/accounts/\(shared)/shares", token: admin,
                json: ["users": [["username": "pu-\(tag)", "permission": "view"]]]).status == .noContent)

            let schedule: [String: Any] = ["kind": "days", "everyDays": 1, "at": "07:00", "timeZone": "UTC"]
            func put(_ body: [String: Any], _ token: String) async throws -> ServerTestSupport.Reply {
                try await api.call(.put, "/settings/report-schedule", token: token, json: body)
            }
            for (body, code) in [
                (["schedule": schedule, "reports": ["compliance"], "recipients": ["nobody-\(tag)"]], "unknown_user"),
                (["schedule": schedule, "reports": ["compliance"], "recipients": ["nomail-\(tag)"]], "no_email"),
                (["schedule": schedule, "reports": ["pdf"], "recipients": ["admin"]], "invalid_field"),
                (["schedule": schedule, "reports": [], "recipients": ["admin"]], "invalid_field"),
                (["schedule": ["kind": "days", "at": "25:00"], "reports": ["expiry"], "recipients": ["admin"]], "invalid_field"),
                (["schedule": ["kind": "once", "date": "2026-05-31", "at": "07:00"], "reports": ["expiry"], "recipients": ["admin"]], "invalid_field"),
                (["schedule": ["kind": "days", "everyDays": 1, "at": "07:00", "allowedHours": ["from": "01:00", "to": "02:00"]], "reports": ["expiry"],
                    "recipients": ["admin"]], "invalid_field"),
            ] as [([String: Any], String)] {
                let r = try await put(body, admin)
                #expect(r.status == .badRequest && r.errorCode == code, "\(code): \(r.text)")
            }
            #expect(try await put(["schedule": schedule, "reports": ["expiry"], "recipients": ["admin"]], pu).status == .forbidden)
            #expect(try await api.call(.get, "/settings/report-schedule", token: admin).object["configured"] as? Bool == false)
            let saved = try await put(["schedule": schedule, "reports": ["inventory", "compliance", "activity"], "recipients": ["admin", "pu-\(tag)"]], admin)
            #expect(saved.status == .noContent, "\(saved.text)")
            let shown = try await api.call(.get, "/settings/report-schedule", token: admin).object
            #expect(shown["configured"] as? Bool == true && shown["nextAt"] as? String == "2026-06-01T07:00:00Z", "\(shown)")
            let noZone = try await put(["schedule": ["kind": "days", "everyDays": 1, "at": "07:00"], "reports": ["expiry"], "recipients": ["admin"]], admin)
            #expect(noZone.status == .noContent)
            let zoned = try await api.call(.get, "/settings/report-schedule", token: admin).object["schedule"] as? [String: Any]
            #expect(zoned?["timeZone"] as? String == TimeZone.current.identifier, "the server's zone, by name: \(String(describing: zoned))")
            #expect(try await put(["schedule": schedule, "reports": ["inventory", "compliance", "activity"], "recipients": ["admin", "pu-\(tag)"]], admin)
                .status == .noContent)

            #expect(try await h.custody.reportMailer.runDue() == nil, "not before 07:00")
            clock.advance(7 * 3600 + 30)
            #expect(try await h.custody.reportMailer.runDue() == 2)
            #expect(try await h.custody.reportMailer.runDue() == nil, "once per scheduled time")

            let theirs = try #require(await MailServer.await(to: puEmail, containing: "Custody report"))
            #expect(theirs.content.contains("multipart/mixed") && theirs.content.contains("Activity: not sent"), "\(theirs.content)")
            let csv = try #require(Self.attachment(theirs.content, "custody-inventory-2026-06-01.csv"))
            #expect(csv.contains("shared-\(tag)") && !csv.contains("hidden-\(tag)"), "only what the reader may see: \(csv)")
            #expect(Self.attachment(theirs.content, "custody-activity-2026-06-01.csv") == nil)
            let mine = try #require(await MailServer.await(to: adminEmail, containing: "Custody report"))
            let all = try #require(Self.attachment(mine.content, "custody-inventory-2026-06-01.csv"))
            #expect(all.contains("shared-\(tag)") && all.contains("hidden-\(tag)"))
            #expect(try #require(Self.attachment(mine.content, "custody-compliance-2026-06-01.csv")).hasPrefix("resource,resourceType,owner,"))
            #expect(try #require(Self.attachment(mine.content, "custody-activity-2026-06-01.csv")).hasPrefix("day,user,"))
            #expect(!mine.content.contains("Sched-Pass"), "no password in a report")
            try await n.until("the files dropped once sent") {
                try await h.custody.store.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM notifications WHERE event = 'scheduled_report' AND (state != 'sent' OR attachments IS NOT NULL)")
                } == 0
            }

            let audit = try await api.call(.get, "/audit?operation=send_scheduled_report", token: admin).array
            #expect(audit.count == 1 && (audit.first?["message"] as? String)?.contains("to 2 recipients") == true, "\(audit)")
            #expect(try await api.call(.get, "/audit?operation=save_report_schedule", token: admin).array.count == 3)
            let after = try await api.call(.get, "/settings/report-schedule", token: admin).object
            #expect(after["lastSent"] as? String == "2026-06-01T07:00:30Z" && after["nextAt"] as? String == "2026-06-02T07:00:00Z", "\(after)")
            #expect(try await api.call(.delete, "/settings/report-schedule", token: admin).status == .noContent)
            #expect(try await api.call(.get, "/settings/report-schedule", token: admin).object["configured"] as? Bool == false)
            clock.advance(86400)
            #expect(try await h.custody.reportMailer.runDue() == nil, "stopped")
        }
    }

    /// An attachment's text, from the raw message: its part's base64 lines after the blank line.
    static func attachment(_ raw: String, _ name: String) -> String? {
        let lines = raw.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        guard let at = lines.firstIndex(where: { $0.contains("filename=\"\(name)\"") }),
            let blank = lines[at...].firstIndex(where: { $0.isEmpty })
        else { return nil }
        let b64 = lines[(blank + 1)...].prefix { !$0.hasPrefix("--") && !$0.isEmpty }.joined()
        return Data(base64Encoded: b64).map { String(decoding: $0, as: UTF8.self) }
    }
}
