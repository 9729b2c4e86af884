import Foundation
import Notify
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// The reports' reads on every backend: each account's facts (policy rules broken, last reset,
/// share reach) and the audit counted by user and day, both limited to what the caller sees.
@Suite struct ReportStoreConformance {
    static let t0 = TaskStoreConformance.t0
    static let ana = TaskStoreConformance.ana
    static let cy = Principal(userID: "u-cy", username: "cy", role: .passwordAdministrator, superAdmin: false, mustChangePassword: false, tokenID: "t")

    @Test(arguments: StoreBackend.names("runs"))
    func factsTellRulesResetsAndReachOfWhatTheCallerSees(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (id, n) in [("u-ana", "ana"), ("u-cy", "cy"), ("u-di", "di")] { try await b.addUser(id, n) }
        try await b.setRole("u-cy", .passwordAdministrator)
        let f = try await TaskStoreConformance.fixture(b, login: "svc")
        let weak = try await b.addAccount(f.rid, "weak")
        _ = try await b.addAccount(f.rid, "none")
        try await b.setPassword(f.aid, Secret("Old-Pass-1!"))
        try await b.setPassword(weak, Secret("short"))
        var reset = try await TaskStoreConformance.queue(b, .reset, f)
        reset.pendingSecretId = "p-new"
        try await b.tasks.writePending(Secret("Strong-Enough-Pass-9!"), id: "p-new", account: f.aid, by: "ana", at: Self.t0, task: reset.id)
        reset.end(.succeeded, code: "ok", message: "changed", at: Self.t0.addingTimeInterval(5))
        try await b.tasks.commit(TaskWrite(task: reset, audit: []), at: Self.t0.addingTimeInterval(5), listenerTrigger: "test")
        try await b.share("account", weak, "u-cy", "view")
        try await b.share("resource", f.rid, "u-di", "view")

        let all = Dictionary(uniqueKeysWithValues: try await b.runs.accountFacts(visibleTo: Self.ana, rules: true).map { ($0.account, $0) })
        #expect(all.keys.sorted() == ["none", "svc", "weak"])
        let svc = try #require(all["svc"]), w = try #require(all["weak"]), none = try #require(all["none"])
        #expect(svc.policy == "Strong" && svc.maxAgeDays == 90 && svc.violations.isEmpty && svc.resetConfigured, "\(svc)")
        #expect(svc.lastResetAt == Self.t0.addingTimeInterval(5) && svc.changedAt != nil && svc.owner == "ana" && svc.resourceType == "Linux")
        #expect(w.violations.contains("shorter than 12 characters") && w.lastResetAt == nil, "\(w.violations)")
        #expect(!w.violations.joined().contains("short,") && !"\(w)".contains("Strong-Enough"), "never the password")
        #expect(svc.sharedWith == 1 && w.sharedWith == 2 && none.sharedWith == 1, "di through the resource, cy on the account")
        #expect(none.changedAt == nil && none.violations.isEmpty && !none.passwordKnown)

        let cys = try await b.runs.accountFacts(visibleTo: Self.cy, rules: true)
        #expect(cys.map(\.account) == ["weak"], "cy sees the one account shared with it")

        // Activity: counted by user and day; cy sees its own records and those about its account.
        let day = 86400.0
        for (user, op, outcome, account) in [("ana", "login", "success", nil), ("ana", "retrieve_password", "success", f.aid),
            ("ana", "retrieve_password", "success", weak), ("cy", "login", "failure", nil), ("cy", "retrieve_password", "denied", f.aid),
            ("ana", "change_password", "success", f.aid), ("ana", "queue_reset", "success", f.aid), ("cy", "login", "locked", nil),
            ("ana", "create_user", "success", nil)] as [(String, String, String, String?)]
        {
            try await b.audit.append(AuditEvent(user: user, ip: "10.0.0.1", operation: op, outcome: outcome, resourceId: f.rid, accountId: account))
        }
        // A reset counts when it took (change_password); a lock-out's extra record is no second failure.
        let now = Date()
        let counts = try await b.runs.activity(visibleTo: Self.ana, from: now.addingTimeInterval(-day), to: now.addingTimeInterval(day))
        let today = Int((now.timeIntervalSince1970 / day).rounded(.down))
        #expect(counts == [ActivityCount(user: "ana", day: today, retrievals: 2, resets: 1, logins: 1),
            ActivityCount(user: "cy", day: today, failedLogins: 1, refused: 1)], "\(counts)")
        let theirs = try await b.runs.activity(visibleTo: Self.cy, from: now.addingTimeInterval(-day), to: now.addingTimeInterval(day))
        #expect(theirs == [ActivityCount(user: "ana", day: today, retrievals: 1), ActivityCount(user: "cy", day: today, failedLogins: 1, refused: 1)],
            "\(theirs)")
        #expect(try await b.runs.activity(visibleTo: Self.ana, from: now.addingTimeInterval(day), to: now.addingTimeInterval(2 * day)).isEmpty)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func theScheduledReportGoesOutOncePerMark(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        #expect(try await b.reportSchedules.reportSchedule() == nil)
        let s = ReportScheduleSettings(schedule: RotationSchedule(kind: .days, at: "07:00", everyDays: 1, timeZone: "UTC"),
            reports: ["compliance"], recipients: ["ana"])
        try await b.reportSchedules.saveReportSchedule(s, at: Self.t0, audit: AuditEvent(user: "root", ip: "r", operation: "save_report_schedule"))
        let saved = try #require(try await b.reportSchedules.reportSchedule())
        #expect(saved.settings == s && saved.savedAt == Self.t0 && saved.lastSent == nil)
        let mail = OutboxEntry(id: "m1", event: "scheduled_report", channel: .email, recipient: "ana@example.test", subject: "s", body: "b",
            fields: [], accountIds: [], createdAt: Self.t0, nextAttemptAt: Self.t0,
            attachments: [MailAttachment(name: "r.csv", contentType: "text/csv", data: Data("a,b\n".utf8))])
        let at = Self.t0.addingTimeInterval(3600)
        let audit = AuditEvent(user: "system", ip: "server", operation: "send_scheduled_report")
        #expect(try await b.reportSchedules.sendScheduledReports([mail], at: at, previous: nil, made: Self.t0.addingTimeInterval(1), audit: audit)
            == false, "the schedule read is not the one stored")
        #expect(try await b.reportSchedules.sendScheduledReports([mail], at: at, previous: nil, made: Self.t0, audit: audit))
        #expect(try await b.reportSchedules.sendScheduledReports([mail], at: at, previous: nil, made: Self.t0, audit: audit) == false,
            "another node sent it")
        #expect(try await b.reportSchedules.reportSchedule()?.lastSent == at)
        let queued = try await b.outbox.due(at: at, limit: 10)
        #expect(queued.count == 1 && queued.first?.attachments.first?.data == Data("a,b\n".utf8), "the attachment survives the outbox")
        try await b.reportSchedules.saveReportSchedule(nil, at: at, audit: AuditEvent(user: "root", ip: "r", operation: "save_report_schedule"))
        #expect(try await b.reportSchedules.reportSchedule() == nil)
    }
}
