import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The console's account flows in process: add a resource and an account through forms (errors
/// next to the field), reveal a password (audited, reason when required, hidden by the script),
/// and a remote reset and a verify on the IOS emulator, followed on the task's page.
@Suite(.serialized) struct WebConsoleAccountTests {

    @Test func addAResourceAndAnAccountAndRevealItsPassword() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let form = try await b.go(.get, "/resources/new")
            let csrf = Browser.csrf(form.html)
            let bad = try await b.go(.post, "/resources", form: ["_csrf": csrf, "name": "web-host", "dnsName": "not a host!", "type": "Linux"])
            #expect(bad.status == .badRequest && bad.html.contains("field-error") && bad.html.contains("value=\"web-host\""))
            let made = try await b.go(.post, "/resources", form: ["_csrf": csrf, "name": "web-host", "dnsName": "web-host.example.test", "type": "Linux"])
            let path = try #require(made.headers[.location])
            #expect(made.status == .seeOther && path.hasPrefix("/resources/"))
            let added = try await b.go(.post, path + "/accounts", form: ["_csrf": csrf, "loginName": "deploy", "password": "Web-Pass-1234!"])
            let account = try #require(added.headers[.location])
            let page = try await b.go(.get, account)
            #expect(page.html.contains("deploy") && !page.html.contains("Web-Pass-1234!"))
            #expect(try await b.go(.post, account + "/reveal", form: [:]).status == .forbidden)
            let shown = try await b.go(.post, account + "/reveal", form: ["_csrf": csrf])
            #expect(shown.html.contains(">Web-Pass-1234!<") && shown.html.contains("data-hide-after=\"10\""))
            #expect(shown.headers[.cacheControl] == "no-store")
            let audit = try await api.call(.get, "/audit?limit=20", token: admin).array
            #expect(audit.contains { $0["operation"] as? String == "retrieve_password" && $0["account"] as? String == "deploy" })
            // With reasons required, the form asks for one and refuses without it.
            try await api.call(.put, "/settings/passwords", token: admin, json: ["requireReason": true])
            let asks = try await b.go(.get, account)
            #expect(asks.html.contains("name=\"reason\""))
            let refused = try await b.go(.post, account + "/reveal", form: ["_csrf": csrf])
            #expect(refused.status == .badRequest && !refused.html.contains("Web-Pass-1234!") && refused.html.contains("reason"))
            let withReason = try await b.go(.post, account + "/reveal", form: ["_csrf": csrf, "reason": "change window 42"])
            #expect(withReason.html.contains(">Web-Pass-1234!<"))
            // The audit viewer shows the retrievals, filtered; the CSV export defuses formulas.
            _ = try await b.go(.post, account + "/reveal", form: ["_csrf": csrf, "reason": "=HYPERLINK(\"x\")"])
            let viewer = try await b.go(.get, "/audit?operation=retrieve_password")
            #expect(viewer.status == .ok && viewer.html.contains("change window 42") && !viewer.html.contains(">create_resource<"))
            let csv = try await b.go(.get, "/audit.csv?operation=retrieve_password")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true && csv.html.hasPrefix("id,at,user,ip,operation"))
            #expect(csv.html.contains("\"'=HYPERLINK(\"\"x\"\")\"") && !csv.html.contains("Web-Pass-1234!"))
            _ = try await api.user("web_auditless", role: "passwordUser", adminToken: admin)
            let u = Browser(api.client)
            _ = try await u.signIn("web_auditless", API.userPassword + "x")
            #expect(try await u.go(.get, "/audit").status == .forbidden)
        }
    }

    @Test(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available))
    func aRemoteResetAndAVerifyAreFollowedOnTheTaskPage() async throws {
        let emu = try DeviceEmulator(family: "ios", users: NetworkDeviceServerTests.users, flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        try await Harness.make().run { api in
            let (admin, rid, aid) = try await NetworkDeviceServerTests.setup(api, emu)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/resources/\(rid)/accounts/\(aid)")
            let csrf = Browser.csrf(page.html)
            for action in ["reset", "verify"] {
                let queued = try await b.go(.post, "/resources/\(rid)/accounts/\(aid)/\(action)", form: ["_csrf": csrf])
                let taskPath = try #require(queued.headers[.location])
                var html = ""
                for _ in 0..<100 {
                    html = try await b.go(.get, taskPath).html
                    if !html.contains("id=\"refresh\"") { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                #expect(html.contains("class=\"state succeeded\""), "\(action): \(html)")
            }
            let stored = try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String)
            #expect(emu.password("ops") == stored && stored != "Ops-Start-1")
            let mine = try await b.go(.get, "/tasks")
            #expect(mine.html.components(separatedBy: "state succeeded").count == 3)
            #expect(!mine.html.contains("id=\"refresh\"") && !mine.html.contains("id=\"active-tasks\""), "nothing runs")
            // A running task: the badge on "My tasks" counts it and the list refreshes itself.
            try await api.harness.custody.store.write { db in try db.execute(sql: "UPDATE tasks SET state = 'running' WHERE rowid = (SELECT MIN(rowid) FROM tasks)") }
            let live = try await b.go(.get, "/tasks")
            #expect(live.html.contains("id=\"active-tasks\" title=\"queued or running\">1<") && live.html.contains("id=\"refresh\""))
        }
    }
}
