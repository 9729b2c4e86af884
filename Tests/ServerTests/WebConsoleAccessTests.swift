import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The access-control workflow in the console, in process: the account's card and its forms, the
/// approver's badge and requests page, the holder's reveal, and the check-in with its reset.
@Suite struct WebConsoleAccessTests {
    typealias T = AccessControlTests

    static func location(_ p: Browser.Page) -> String { p.headers[.location] ?? "" }

    @Test func askApproveCheckOutRevealAndCheckInFromTheConsole() async throws {
        let plugin = ScriptedPlugin()
        try await T.harness(plugin).run { api in
            let w = try await T.world(api, rules: T.basic)
            let account = "/resources/\(w.rid)/accounts/\(w.aid)"
            let holder = Browser(api.client)
            _ = try await holder.signIn("alice", API.userPassword + "x")
            var page = try await holder.go(.get, account)
            #expect(page.html.contains("id=\"access-control\"") && page.html.contains("id=\"request-access\""), "the card offers a request")
            let csrf = Browser.csrf(page.html)
            let refused = try await holder.go(.post, account + "/reveal", form: ["_csrf": csrf])
            #expect(refused.status == .forbidden && refused.html.contains("id=\"reveal-error\""), "a gated reveal is refused in words")
            #expect(!refused.html.contains("Start-Pass-1"))
            let bad = try await holder.go(.post, account + "/access-requests", form: ["_csrf": csrf, "reason": "x", "minutes": "999"])
            #expect(bad.status == .badRequest && bad.html.contains("id=\"access-error\""), "too long a window: \(bad.status)")
            let asked = try await holder.go(.post, account + "/access-requests", form: ["_csrf": csrf, "reason": "console patch", "minutes": "30"])
            #expect(asked.status == .seeOther && Self.location(asked).hasSuffix("notice=requested"), "\(asked.status) \(Self.location(asked))")
            page = try await holder.go(.get, Self.location(asked))
            #expect(page.html.contains("Access requested") && page.html.contains("id=\"my-request\""))

            let approver = Browser(api.client)
            _ = try await approver.signIn("appr1", API.userPassword + "x")
            let queue = try await approver.go(.get, "/access-requests")
            #expect(queue.html.contains("id=\"awaiting-approval\"") && queue.html.contains("console patch"), "the badge and the row")
            let id = try #require(try await api.call(.get, "/access-requests?awaiting=me", token: w.approver).array.first?["id"] as? String)
            let approved = try await approver.go(.post, "/access-requests/\(id)/approve",
                form: ["_csrf": Browser.csrf(queue.html), "comment": "fine", "back": "list"])
            #expect(approved.status == .seeOther && Self.location(approved) == "/access-requests?notice=granted")
            #expect(!(try await approver.go(.get, "/access-requests").html.contains("id=\"awaiting-approval\"")), "the badge is gone")

            page = try await holder.go(.get, account)
            #expect(page.html.contains("id=\"checkout\""))
            let out = try await holder.go(.post, "/access-requests/\(id)/checkout", form: ["_csrf": Browser.csrf(page.html)])
            #expect(Self.location(out).hasSuffix("notice=checkedOut"))
            page = try await holder.go(.get, account)
            #expect(page.html.contains("Checked out by <strong>alice</strong>") && page.html.contains("id=\"checkin\""))
            let shown = try await holder.go(.post, account + "/reveal", form: ["_csrf": Browser.csrf(page.html)])
            #expect(shown.html.contains("Start-Pass-1"), "the holder reads it")

            let other = Browser(api.client)
            _ = try await other.signIn("bob", API.userPassword + "x")
            let bobPage = try await other.go(.get, account)
            let blocked = try await other.go(.post, account + "/reveal", form: ["_csrf": Browser.csrf(bobPage.html)])
            #expect(blocked.status == .conflict && blocked.html.contains("checked out by alice") && !blocked.html.contains("Start-Pass-1"))

            let adminView = Browser(api.client)
            _ = try await adminView.signIn("admin", API.adminPassword)
            #expect(try await adminView.go(.get, account).html.contains("id=\"force-checkin\""), "an administrator may take it back")

            let back = try await holder.go(.post, "/access-requests/\(id)/checkin", form: ["_csrf": Browser.csrf(page.html)])
            #expect(Self.location(back).hasSuffix("notice=checkedInReset"), "\(Self.location(back))")
            let task = try #require(try await api.call(.get, "/access-requests/\(id)", token: w.alice).object["taskId"] as? String)
            #expect(try await Fixtures.waitTask(api, task, token: w.admin)["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 1)
        }
    }
}
