import Foundation
import GRDB
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Notifications end to end: events queue email (delivered to a real aiosmtpd) and syslog
/// (received and parsed by a real rsyslogd); recipients are worked out at send time; templates
/// are editable; failed deliveries are retried and never fail a reset.
@Suite(.needs("the test SMTP server (aiosmtpd) and rsyslogd (make deps)", MailServer.available && SyslogServer.available))
struct NotificationTests {
    typealias Scripted = ScriptedPlugin

    func harness(_ plugin: Scripted, clock: TestClock? = nil, attempts: Int = 8) async throws -> Harness {
        let base = try await Harness.make(clock: clock, configure: { $0.notificationAttempts = attempts })
        let c = base.custody
        return Harness(custody: Custody(config: c.config, store: c.store, vault: c.vault, logger: c.logger, now: c.now,
            plugins: PluginRegistry(plugins: ["unix": plugin])), dataDir: base.dataDir)
    }

    static func tag() -> String { "n\(UUID().uuidString.prefix(8).lowercased())" }

    /// The admin's token and email; mail goes to the plain aiosmtpd listener, syslog to rsyslogd over UDP.
    func configure(_ api: API, smtpPort: Int = MailServer.plainPort) async throws -> (String, String) {
        let admin = try await api.admin()
        let email = "admin-\(Self.tag())@example.test"
        try await setEmail(api, "admin", email, admin)
        let saved = try await api.call(.put, "/settings/notifications", token: admin, json: [
            "smtp": ["host": "127.0.0.1", "port": smtpPort, "security": "none", "from": "custody@example.test"],
            "syslog": ["host": "127.0.0.1", "port": SyslogServer.udpPort, "transport": "udp", "format": "rfc5424"],
            "accessURL": "https://vault.example.test", "serverName": "vault01"])
        #expect(saved.status == .noContent, "\(saved.text)")
        return (admin, email)
    }

    func setEmail(_ api: API, _ username: String, _ email: String, _ token: String) async throws {
        let users = try await api.call(.get, "/users", token: token).array
        let uid = try #require(users.first { $0["username"] as? String == username }?["id"] as? String)
        try await api.call(.patch, "/users/\(uid)", token: token, json: ["email": email])
    }

    /// A resource with one account on the scripted plugin; returns (resource name, rid, aid).
    func target(_ api: API, _ admin: String) async throws -> (String, String, String) {
        let name = Self.tag()
        let rid = try await api.resource(name, token: admin)
        let aid = try await api.account(rid, "svc", password: "Start-Pass-0", token: admin)
        try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh"])
        return (name, rid, aid)
    }

    func until(_ what: String, _ condition: () async throws -> Bool) async throws {
        for _ in 0..<600 {  // up to a minute: a crowded test run is slow
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }

    /// Rows as text, for expectations.
    func rows(_ h: Harness, _ sql: String, _ args: [String] = []) async throws -> [[String: String]] {
        try await h.custody.store.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                Dictionary(uniqueKeysWithValues: row.columnNames.map { name -> (String, String) in
                    switch (row[name] as DatabaseValue).storage {
                    case .int64(let i): (name, String(i))
                    case .double(let d): (name, String(d))
                    case .string(let s): (name, s)
                    default: (name, "")
                    }
                })
            }
        }
    }

    @Test func aRemoteResetMailsTheUsersWithAccessOnlyAndLogsToSyslog() async throws {
        let h = try await harness(Scripted())
        try await h.run { api in
            let (admin, adminEmail) = try await configure(api)
            let (name, rid, aid) = try await target(api, admin)
            _ = try await api.user("viewer", role: "passwordUser", adminToken: admin)
            _ = try await api.user("outsider", role: "passwordUser", adminToken: admin)
            let viewerEmail = "viewer-\(Self.tag())@example.test", outsiderEmail = "outsider-\(Self.tag())@example.test"
            try await setEmail(api, "viewer", viewerEmail, admin)
            try await setEmail(api, "outsider", outsiderEmail, admin)
            try await api.call(.put, "/resources/\(rid)/shares", token: admin, json: ["users": [["username": "viewer", "permission": "view"]]])
            let r = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin,
                json: ["resetType": "remote", "reason": "quarterly rotation"])
            #expect(r.status == .accepted, "\(r.text)")
            let mail = try #require(await MailServer.await(to: adminEmail, containing: "Password changed: \(name) / svc"))
            let viewer = try #require(await MailServer.await(to: viewerEmail, containing: name))
            let newPassword = try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String)
            for m in [mail, viewer] {
                #expect(m.content.contains("The password of svc on \(name) was changed by admin"))
                #expect(m.content.contains("Reason: quarterly rotation"))
                #expect(m.content.contains("https://vault.example.test"))
                #expect(!m.content.contains(newPassword) && !m.content.contains("Start-Pass-0"), "no password in mail")
            }
            #expect(MailServer.received().allSatisfy { !$0.to.contains(outsiderEmail) }, "no access, no mail")
            let log = try #require(await SyslogServer.await(containing: "\(name):svc:quarterly rotation"))
            #expect(log.msgID == "password_changed" && log.facility == "auth" && log.severity == "notice" && log.host == "vault01")
            #expect(log.structuredData.contains("resource=\"\(name)\"") && log.structuredData.contains("user=\"admin\""))
            #expect(log.message.hasPrefix("admin:server password_changed ") && log.message.contains(" success vault01 \(name):svc:"))
            // The sender marks a row sent just after the server took it: wait for the marks (bounded).
            var sent = try await rows(h, "SELECT channel, state FROM notifications WHERE event = 'password_changed'")
            for _ in 0..<50 where !sent.allSatisfy({ $0["state"] == "sent" }) {
                try await Task.sleep(for: .milliseconds(100))
                sent = try await rows(h, "SELECT channel, state FROM notifications WHERE event = 'password_changed'")
            }
            #expect(sent.count == 3 && sent.allSatisfy { $0["state"] == "sent" }, "two emails and one syslog message")
        }
    }

    @Test func templatesAreCheckedEditableAndRestorable() async throws {
        let h = try await harness(Scripted(failures: 1, code: .permissionDenied))
        try await h.run { api in
            let (admin, email) = try await configure(api)
            let bad = try await api.call(.put, "/notifications/templates/reset_failed", token: admin,
                json: ["subject": "{{password}} for {{account}}", "body": "x"])
            #expect(bad.status == .badRequest && bad.errorCode == "unknown_placeholder", "\(bad.text)")
            #expect(try await api.call(.put, "/notifications/templates/no_such_event", token: admin, json: ["subject": "s", "body": "b"]).status == .notFound)
            let ok = try await api.call(.put, "/notifications/templates/reset_failed", token: admin,
                json: ["subject": "FAILED {{resource}}/{{account}}", "body": "By {{user}}: {{message}}\nServer {{server}}"])
            #expect(ok.status == .noContent, "\(ok.text)")
            let (name, rid, aid) = try await target(api, admin)
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            try await until("the failure") { try await rows(h, "SELECT 1 FROM tasks WHERE phase = 'done'").count == 1 }
            let m = try #require(await MailServer.await(to: email, containing: "FAILED \(name)/svc"))
            #expect(m.content.contains("By admin: permissionDenied: scripted permissionDenied"))
            #expect(m.content.contains("Server vault01"))
            #expect(try await api.call(.delete, "/notifications/templates/reset_failed", token: admin).status == .noContent)
            let back = try await api.call(.get, "/notifications/templates/reset_failed", token: admin)
            #expect(back.object["subject"] as? String == NotificationEvent.resetFailed.defaultTemplate.subject)
            let events = try await api.call(.get, "/notifications/events", token: admin).array
            #expect(events.count == NotificationEvent.allCases.count)
        }
    }

    @Test func outOfSyncIsSentOnceADayWhileItLasts() async throws {
        let clock = TestClock()
        let h = try await harness(Scripted(), clock: clock)
        try await h.run { api in
            var (admin, email) = try await configure(api)
            let (name, rid, aid) = try await target(api, admin)
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            try await until("the reset") { try await rows(h, "SELECT 1 FROM tasks WHERE state = 'succeeded'").count == 1 }
            // The vault now holds a password the target does not know.
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "local", "newPassword": "Vault-Only-1"])
            func verify(_ n: Int) async throws {
                try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
                try await until("verify \(n)") { try await rows(h, "SELECT 1 FROM tasks WHERE kind = 'verify' AND state != 'queued' AND phase = 'done'").count == n }
            }
            try await verify(1)
            try await verify(2)
            clock.advance(6 * 3600)
            try await verify(3)
            #expect(try await rows(h, "SELECT 1 FROM notifications WHERE event = 'out_of_sync' AND channel = 'email'").count == 1, "once a day")
            clock.advance(20 * 3600)
            // The session ended with the day; log in again.
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            admin = try #require(login.object["token"] as? String)
            try await verify(4)
            #expect(try await rows(h, "SELECT 1 FROM notifications WHERE event = 'out_of_sync' AND channel = 'email'").count == 2, "again the next day")
            let m = try #require(await MailServer.await(to: email, containing: "Out of sync: \(name) / svc"))
            #expect(m.content.contains("authenticationFailed"))
        }
    }

    @Test func rotationsSendOneNoticeBeforeAndAConsolidatedReportAfter() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:00:00Z")!.timeIntervalSince(clock.now))
        let h = try await harness(Scripted(), clock: clock)
        try await h.run { api in
            let (admin, _) = try await configure(api)
            let (name, rid, _) = try await target(api, admin)
            _ = try await api.account(rid, "app", password: "Start-Pass-1", token: admin)
            let g = try await api.call(.post, "/groups", token: admin, json: ["name": "grp-\(name)", "resourceIds": [rid]])
            let gid = try #require(g.object["id"] as? String)
            let team = "team-\(name)@example.test", after = "after-\(name)@example.test"
            let saved = try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "01:00", "timeZone": "UTC"], "passwordChoice": "unique",
                "preNotify": ["minutesBefore": 30, "recipients": ["emails": [team]]],
                "postNotify": ["recipients": ["emails": [after], "usersWithAccess": false]]])
            #expect(saved.status == .ok, "\(saved.text)")
            try await h.custody.rotationRuns.sendNotices()
            #expect(try await rows(h, "SELECT 1 FROM notifications WHERE event = 'rotation_upcoming'").isEmpty, "not yet: 60 minutes before")
            clock.advance(40 * 60)
            try await h.custody.rotationRuns.sendNotices()
            try await h.custody.rotationRuns.sendNotices()
            #expect(try await rows(h, "SELECT 1 FROM notifications WHERE event = 'rotation_upcoming' AND recipient = ?", [team]).count == 1)
            let pre = try #require(await MailServer.await(to: team, containing: "rotate at 2026-06-01T01:00:00Z"))
            #expect(pre.content.contains("- \(name) / app") && pre.content.contains("- \(name) / svc"))
            clock.advance(20 * 60)
            let started = try await h.custody.rotationRuns.runDue()
            #expect(started.count == 1)
            _ = try await api.finishedRun("/rotation-runs/\(started[0])", token: admin)
            try await h.custody.rotationRuns.sendNotices()
            try await h.custody.rotationRuns.sendNotices()
            #expect(try await rows(h, "SELECT 1 FROM notifications WHERE event = 'rotation_completed' AND recipient = ?", [after]).count == 1)
            let post = try #require(await MailServer.await(to: after, containing: "Rotation of group grp-\(name): success"))
            #expect(post.content.contains("2 accounts: 2 changed, 0 failed, 0 skipped"))
            #expect(post.content.contains("- \(name) / app: succeeded") && post.content.contains("- \(name) / svc: succeeded"))
        }
    }

    @Test func aFailedDeliveryIsRetriedThenGivenUpAndNeverFailsTheReset() async throws {
        let clock = TestClock()
        let h = try await harness(Scripted(), clock: clock, attempts: 3)
        try await h.run { api in
            let (admin, email) = try await configure(api, smtpPort: TestTargets.freePort())
            try await api.call(.put, "/notifications/events/password_changed", token: admin, json: ["syslog": false])
            let (name, rid, aid) = try await target(api, admin)
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            try await until("the reset") { try await rows(h, "SELECT 1 FROM tasks WHERE state = 'succeeded'").count == 1 }
            func attempts() async throws -> (Int, String, String?) {
                let r = try #require(try await rows(h, "SELECT attempts, state, lastError FROM notifications WHERE event = 'password_changed'").first)
                return (Int(r["attempts"] ?? "") ?? -1, r["state"] ?? "", r["lastError"])
            }
            try await until("attempt 1") { try await attempts().0 == 1 }
            #expect(try await attempts().2?.hasPrefix("connect:") == true)
            clock.advance(61)
            try await until("attempt 2") { try await attempts().0 == 2 }
            clock.advance(121)
            try await until("given up") { try await attempts().1 == "failed" }
            let audit = try await rows(h, "SELECT message FROM audit WHERE operation = 'notification_failed'")
            #expect(audit.count == 1 && audit.first?["message"]?.contains("gave up after 3 attempts") == true)
            let listed = try await api.call(.get, "/notifications?state=failed", token: admin).array
            #expect(listed.count == 1 && listed.first?["recipient"] as? String == email)

            // The next change queues while the server is down, then arrives once it is back.
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote", "reason": "second"])
            try await until("the second reset") { try await rows(h, "SELECT 1 FROM tasks WHERE state = 'succeeded'").count == 2 }
            try await until("its first attempt") { try await rows(h, "SELECT 1 FROM notifications WHERE state = 'pending' AND attempts = 1").count == 1 }
            try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "127.0.0.1", "port": MailServer.plainPort, "security": "none", "from": "custody@example.test"]])
            clock.advance(61)
            #expect(await MailServer.await(to: email, containing: "Reason: second") != nil, "delivered on retry")
            #expect(MailServer.received().filter { $0.to.contains(email) && $0.content.contains(name) }.count == 1)
        }
    }

    @Test func settingsAreCheckedAndTheSMTPPasswordStaysSealed() async throws {
        let h = try await harness(Scripted())
        try await h.run { api in
            let admin = try await api.admin()
            for (body, code) in [
                (["smtp": ["host": "mail.example.test", "security": "none", "username": "u", "password": "p", "from": "c@example.test"]], "insecure_auth"),
                (["smtp": ["host": "mail.example.test", "from": "not-an-address"]], "invalid_field"),
                (["syslog": ["host": "127.0.0.1", "facility": "nonsense"]], "invalid_field"),
                (["syslog": ["host": "127.0.0.1", "port": 70000]], "invalid_field"),
            ] as [([String: Any], String)] {
                let r = try await api.call(.put, "/settings/notifications", token: admin, json: body)
                #expect(r.status == .badRequest && r.errorCode == code, "\(body): \(r.text)")
            }
            let secret = "Smtp-Secret-\(UUID().uuidString)"
            let ok = try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "localhost", "port": MailServer.startTLSPort, "security": "starttls", "username": MailServer.user,
                    "password": secret, "from": "custody@example.test", "caFile": MailServer.caFile]])
            #expect(ok.status == .noContent, "\(ok.text)")
            let shown = try await api.call(.get, "/settings/notifications", token: admin)
            #expect(!shown.text.contains(secret))
            #expect((shown.object["smtp"] as? [String: Any])?["passwordSet"] as? Bool == true)
            let stored = try await rows(h, "SELECT value FROM settings WHERE key = 'notify.settings'")
            let storedText = stored.first?["value"] ?? ""
            #expect(storedText.contains("mailer") && !storedText.contains(secret))
            let test = try await api.call(.post, "/notifications/test", token: admin, json: ["email": "probe@example.test"])
            #expect(test.object["outcome"] as? String == "authentication: AUTH PLAIN: 535 5.7.8 Authentication credentials invalid", "\(test.text)")
            #expect(!test.text.contains(secret))
            // Saving again without the password keeps it; the right one then works.
            try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "localhost", "port": MailServer.startTLSPort, "security": "starttls", "username": MailServer.user,
                    "password": MailServer.password, "from": "custody@example.test", "caFile": MailServer.caFile]])
            try await api.call(.put, "/settings/notifications", token: admin, json: [
                "smtp": ["host": "localhost", "port": MailServer.startTLSPort, "security": "starttls", "username": MailServer.user,
                    "from": "custody@example.test", "caFile": MailServer.caFile]])
            let probe = "probe-\(Self.tag())@example.test"
            let sent = try await api.call(.post, "/notifications/test", token: admin, json: ["email": probe])
            #expect(sent.object["outcome"] as? String == "sent", "\(sent.text)")
            #expect(await MailServer.await(to: probe)?.auth == true)
        }
    }

    @Test func aListenerAwaitingApprovalMailsItsApproverAndAnExpiryMailsTheOwner() async throws {
        let clock = TestClock()
        let h = try await harness(Scripted(), clock: clock)
        try await h.run { api in
            let (admin, email) = try await configure(api)
            _ = try await api.user("approver", role: "administrator", adminToken: admin)
            let approverEmail = "approver-\(Self.tag())@example.test"
            try await setEmail(api, "approver", approverEmail, admin)
            let listener = "lst-\(Self.tag())"
            let r = try await api.call(.post, "/listeners", token: admin, json: ["name": listener, "kind": "script", "resourceTypes": ["Linux"],
                "script": "#!/bin/sh\nexit 0\n", "approver": "approver"])
            #expect(r.status == .created, "\(r.text)")
            let m = try #require(await MailServer.await(to: approverEmail, containing: "Listener \(listener) awaits approval"))
            #expect(m.content.contains("admin saved the listener \(listener)"))

            let (name, rid, _) = try await target(api, admin)
            let policy = try await api.call(.post, "/policies", token: admin, json: ["name": "Day-\(name)", "minLength": 10, "maxLength": 20, "maxAgeDays": 1])
            #expect(policy.status == .created, "\(policy.text)")
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["passwordPolicy": "Day-\(name)"])
            clock.advance(2 * 86400)
            #expect(try await h.custody.expiry.run().count >= 1)
            let expired = try #require(await MailServer.await(to: email, containing: "Password expired: \(name) / svc"))
            #expect(expired.content.contains("older than 1 days"))
        }
    }
}
