import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The console's start page counts what needs attention (of what the caller can see) and links to
/// the filtered lists; states read as words, and times carry their exact value for the browser.
@Suite struct WebConsoleHomeTests {

    @Test func theStartPageCountsWhatNeedsAttentionAndLinksToIt() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let b = Browser(api.client)
            let signedIn = try await b.signIn("admin", API.adminPassword)
            #expect(signedIn.headers[.location] == "/home")
            var home = try await b.go(.get, "/home")
            #expect(home.status == .ok && home.html.contains("Nothing needs attention."))
            let rid = try await api.resource("home-host", token: admin)
            let aid = try await api.account(rid, "svc", password: "Home-Pass-0001!", token: admin)
            let me = try #require(try await h.custody.identity.authenticate(token: admin))
            try await h.custody.accounts.mark(aid, of: rid, .outOfSync, by: me, audit: AuditEvent(user: "admin", ip: "t", operation: "test"))
            home = try await b.go(.get, "/home")
            #expect(!home.html.contains("Nothing needs attention."))
            #expect(home.html.contains(#"<a href="/resources?sync=outOfSync"><strong class="count">1</strong> passwords out of sync"#), "\(home.html)")
            let list = try await b.go(.get, "/resources?sync=outOfSync")
            #expect(list.html.contains("home-host") && list.html.contains(">out of sync</option>"))
            let account = try await b.go(.get, "/resources/\(rid)/accounts/\(aid)")
            #expect(account.html.contains(#"<span class="status outOfSync">out of sync</span>"#))
            #expect(account.html.range(of: #"<time datetime="\d{4}-\d\d-\d\dT[0-9:]+Z">"#, options: .regularExpression) != nil)
            // A password user sees only what is shared with it: nothing here.
            _ = try await api.user("home-pu", role: "passwordUser", adminToken: admin)
            let pu = Browser(api.client)
            _ = try await pu.signIn("home-pu", API.userPassword + "x")
            #expect(try await pu.go(.get, "/home").html.contains("Nothing needs attention."))
            // A button the role could never use is not shown.
            #expect(!(try await pu.go(.get, "/resources")).html.contains("New resource"))
            #expect(try await b.go(.get, "/resources").html.contains("New resource"))
            #expect(try await b.go(.get, "/").headers[.location] == "/home")
        }
    }

    @Test func statesReadAsWords() {
        #expect(ConsoleWords.state("outOfSync") == "out of sync" && ConsoleWords.state("neverChecked") == "never checked")
        #expect(ConsoleWords.state("pendingApproval") == "pending approval" && ConsoleWords.state("missing") == "missing on the target")
        #expect(ConsoleWords.state("online") == "online")
    }
}
