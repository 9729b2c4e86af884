import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Server
@testable import ServerTestSupport

/// The console's first pages in process: sign-in with the forced change, CSRF on every form,
/// cookie flags and security headers, escaping, the API's authorization, and the idle timeout.
@Suite struct WebConsoleTests {

    @Test func signInWithTheForcedChangeAndCSRFOnEveryForm() async throws {
        let h = try await Harness.make()
        let initial = try #require(try await h.custody.identity.bootstrapAdmin()).reveal()
        try await h.application().test(.router) { client in
            let b = Browser(client)
            #expect(try await b.go(.get, "/resources").headers[.location] == "/login")
            let login = try await b.go(.get, "/login")
            #expect(login.status == .ok && login.html.contains("Sign in"))
            #expect(login.headers[.contentSecurityPolicy]?.contains("script-src 'self'") == true)
            #expect(login.headers[HTTPField.Name("X-Frame-Options")!] == "DENY" && login.headers[.cacheControl] == "no-store")
            #expect(login.headers[HTTPField.Name("Strict-Transport-Security")!] != nil)
            // No token, or a wrong one: refused, no session.
            let forged = try await b.go(.post, "/login", form: ["_csrf": "00", "username": "admin", "password": initial])
            #expect(forged.status == .forbidden && b.cookies["__Host-custody_session"] == nil)
            let wrong = try await b.signIn("admin", "not-the-password")
            #expect(wrong.status == .unauthorized && wrong.html.contains("wrong username or password"))
            let ok = try await b.signIn("admin", initial)
            #expect(ok.status == .seeOther && ok.headers[.location] == "/password")
            let set = ok.headers[values: .setCookie].first { $0.hasPrefix("__Host-custody_session=") } ?? ""
            #expect(set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Strict"))
            // Until the password is changed, every page leads to the change.
            #expect(try await b.go(.get, "/resources").headers[.location] == "/password")
            let pw = try await b.go(.get, "/password")
            let noToken = try await b.go(.post, "/password", form: ["currentPassword": initial, "newPassword": "Console-Pass-2026!",
                "confirmPassword": "Console-Pass-2026!"])
            #expect(noToken.status == .forbidden)
            let mismatch = try await b.go(.post, "/password", form: ["_csrf": Browser.csrf(pw.html), "currentPassword": initial,
                "newPassword": "Console-Pass-2026!", "confirmPassword": "Other-Pass-2026!"])
            #expect(mismatch.status == .badRequest && mismatch.html.contains("The two new passwords differ."))
            let changed = try await b.go(.post, "/password", form: ["_csrf": Browser.csrf(pw.html), "currentPassword": initial,
                "newPassword": "Console-Pass-2026!", "confirmPassword": "Console-Pass-2026!"])
            #expect(changed.headers[.location] == "/home")
            let list = try await b.go(.get, "/resources")
            #expect(list.status == .ok && list.html.contains("Resources"))
            // Sign out needs the token too.
            #expect(try await b.go(.post, "/logout", form: [:]).status == .forbidden)
            let out = try await b.go(.post, "/logout", form: ["_csrf": Browser.csrf(list.html)])
            #expect(out.headers[.location] == "/login" && b.cookies["__Host-custody_session"] == nil)
        }
    }

    @Test func refusalsThrownPastThePagesCarryTheHeadersToo() async throws {
        try await Harness.make().run { api in
            let b = Browser(api.client)
            for path in ["/static/nope.js", "/static/..%2F..%2Fetc%2Fpasswd"] {
                let r = try await b.go(.get, path)
                #expect(r.status == .notFound, "\(path)")
                #expect(r.headers[.contentSecurityPolicy] == WebHeadersMiddleware.csp && r.headers[.cacheControl] == "no-store", "\(path)")
            }
            let css = try await b.go(.get, "/static/console.css")
            #expect(css.status == .ok && css.headers[.cacheControl] == "public, max-age=3600" && css.headers[.xContentTypeOptions] == "nosniff")
        }
    }

    @Test func valuesAreEscapedAndTheAPIsAuthorizationApplies() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            _ = try await api.user("web_user", role: "passwordUser", adminToken: admin)
            let xss = "<img src=x onerror=alert(1)>"
            let created = try await api.call(.post, "/resources", token: admin, json: ["name": xss, "dnsName": "web-xss.example.test", "type": "Linux"])
            let rid = try #require(created.object["id"] as? String, "\(created.text)")
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["description": "\"><script>alert(2)</script>"])
            _ = try await api.account(rid, "<b>ops", password: "Ops-Pass-123", token: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let list = try await b.go(.get, "/resources")
            #expect(list.html.contains("&lt;img src=x onerror=alert(1)&gt;") && !list.html.contains(xss))
            let page = try await b.go(.get, "/resources/\(rid)")
            #expect(page.status == .ok && !page.html.contains("<img src=x") && !page.html.contains("<script>alert") && !page.html.contains("<b>ops"))
            #expect(page.html.contains("&lt;b&gt;ops") && page.html.contains("&quot;&gt;&lt;script&gt;"), "\(page.html)")
            // A Password User sees neither the resource in the list nor its page by URL.
            let u = Browser(api.client)
            _ = try await u.signIn("web_user", API.userPassword + "x")
            #expect(!(try await u.go(.get, "/resources")).html.contains("onerror"))
            let denied = try await u.go(.get, "/resources/\(rid)")
            #expect(denied.status == .notFound && !denied.html.contains("onerror"), "\(denied.status) \(denied.headers)")
        }
    }

    @Test func searchAndFiltersNarrowTheList() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            _ = try await api.resource("web-alpha", token: admin)
            let beta = try await api.resource("web-beta", token: admin, type: "Cisco IOS")
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let q = try await b.go(.get, "/resources?q=ALPHA")
            #expect(q.html.contains("web-alpha") && !q.html.contains("web-beta"))
            let t = try await b.go(.get, "/resources?type=Cisco%20IOS")
            #expect(t.html.contains("web-beta") && !t.html.contains("web-alpha"))
            let s = try await b.go(.get, "/resources?sync=outOfSync")
            #expect(!s.html.contains("web-alpha") && s.html.contains("No resources match."))
            let g = try #require(try await api.call(.post, "/groups", token: admin, json: ["name": "web-grp", "resourceIds": [beta]])
                .object["id"] as? String)
            let byGroup = try await b.go(.get, "/resources?group=\(g)")
            #expect(byGroup.html.contains("web-beta") && !byGroup.html.contains("web-alpha") && byGroup.html.contains(">web-grp</option>"))
        }
    }

    @Test func longListsPageByAHundred() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            var csv = "resourceName,accountName,dnsName,type,password\n"
            for i in 0..<130 { csv += "node\(String(format: "%03d", i)),svc,n\(i).example.test,Linux,Pw-\(UUID().uuidString)\n" }
            _ = try await api.call(.post, "/import/resources", token: admin, raw: csv, contentType: "text/csv")
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let first = try await b.go(.get, "/resources?q=node")
            #expect(first.html.contains(">node000<") && first.html.contains(">node099<") && !first.html.contains(">node100<"))
            #expect(first.html.contains("<span class=\"count\">100+</span>") && !first.html.contains("First page"))
            let href = try #require(first.html.range(of: #"rel="next" href="([^"]+)""#, options: .regularExpression).map {
                String(first.html[$0].split(separator: "\"")[3]).replacingOccurrences(of: "&amp;", with: "&")
            })
            #expect(href.hasPrefix("/resources?") && href.contains("q=node"), "the filter is kept: \(href)")
            let second = try await b.go(.get, href)
            #expect(second.html.contains(">node100<") && second.html.contains(">node129<") && !second.html.contains(">node099<"))
            #expect(!second.html.contains("rel=\"next\"") && second.html.contains("First page"))
            let rid = try #require(try await api.call(.get, "/resources?name=node000", token: admin).array.first?["id"] as? String)
            let aid = try #require(try await api.call(.get, "/resources/\(rid)/accounts", token: admin).array.first?["id"] as? String)
            for _ in 0..<205 {
                let r = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password?reason=paging", token: admin)
                try #require(r.status == .ok, "\(r.text)")
            }
            let audit = try await b.go(.get, "/audit?operation=retrieve_password")
            #expect(audit.html.contains("<span class=\"count\">200+</span>") && audit.html.contains("rel=\"next\""))
            let rest = try #require(audit.html.range(of: #"rel="next" href="([^"]+)""#, options: .regularExpression).map {
                String(audit.html[$0].split(separator: "\"")[3]).replacingOccurrences(of: "&amp;", with: "&")
            })
            let older = try await b.go(.get, rest)
            #expect(older.html.contains("<span class=\"count\">5</span>"), "the 5 oldest on the second page")
        }
    }

    @Test func anIdleSessionSignsInAgain() async throws {
        let clock = TestClock()
        try await Harness.make(clock: clock).run { api in
            _ = try await api.admin()
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            #expect(try await b.go(.get, "/resources").status == .ok)
            // Each use (recorded at most once a minute) restarts the clock.
            for _ in 0..<3 {
                clock.advance(2 * 60)
                #expect(try await b.go(.get, "/resources").status == .ok)
            }
            clock.advance(29 * 60)
            #expect(try await b.go(.get, "/resources").status == .ok)
            clock.advance(31 * 60)
            #expect(try await b.go(.get, "/resources").headers[.location] == "/login")
            // The token is revoked, not just forgotten by the console.
            #expect(try await b.go(.get, "/resources").headers[.location] == "/login")
        }
    }
}
