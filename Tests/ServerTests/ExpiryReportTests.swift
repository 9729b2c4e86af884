import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// The expiry report through the API, the CLI's words for it and the console's start page: passwords
/// past their policy's maximum age and those reaching it soon, of the accounts the caller sees.
@Suite struct ExpiryReportTests {
    @Test func theExpiryReportCountsWhatTheCallerSeesOnTheClock() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            var admin = try await api.admin()
            #expect(try await api.call(.post, "/policies", token: admin, json: ["name": "Week", "minLength": 10, "maxLength": 20, "maxAgeDays": 7])
                .status == .created)
            let rid = try await api.resource("expiry-host", token: admin)
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["passwordPolicy": "Week"])
            let aid = try await api.account(rid, "svc", password: "Expiry-Pass-1", token: admin)
            let other = try await api.resource("expiry-other", token: admin)
            _ = try await api.account(other, "svc", password: "Other-Pass-123!", token: admin)  // Strong: 90 days

            var report = try await api.call(.get, "/reports/expiry", token: admin).object
            var summary = report["summary"] as? [String: Any] ?? [:]
            #expect(summary["withMaxAge"] as? Int == 2 && summary["expiringSoon"] as? Int == 1 && summary["expired"] as? Int == 0, "\(report)")
            #expect((report["accounts"] as? [[String: Any]])?.first?["accountId"] as? String == aid)
            #expect(try await api.call(.get, "/reports/expiry?within=0", token: admin).object["accounts"].map { ($0 as? [Any])?.isEmpty } == true)
            #expect(((try await api.call(.get, "/reports/expiry?within=100", token: admin).object["accounts"]) as? [Any])?.count == 2)

            clock.advance(8 * 86400)
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            admin = try #require(login.object["token"] as? String, "a session outlives no week")
            report = try await api.call(.get, "/reports/expiry", token: admin).object
            summary = report["summary"] as? [String: Any] ?? [:]
            #expect(summary["expired"] as? Int == 1 && summary["expiringSoon"] as? Int == 0, "\(report)")
            let csv = try await api.call(.get, "/reports/expiry?format=csv", token: admin)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.hasPrefix("resource,account,policy,maxAgeDays,changedAt,expiresAt,expired\nexpiry-host,svc,Week,7,"), "\(csv.text)")
            #expect(csv.text.hasSuffix(",true\n"))

            // A password user with nothing shared counts nothing.
            let pu = try await api.user("expiry-pu", role: "passwordUser", adminToken: admin)
            let theirs = try await api.call(.get, "/reports/expiry?within=1000", token: pu).object
            #expect((theirs["summary"] as? [String: Any])?["withMaxAge"] as? Int == 0 && (theirs["accounts"] as? [Any])?.isEmpty == true)
            for path in ["/reports/expiry?within=-1", "/reports/expiry?within=3651", "/reports/expiry?within=soon", "/reports/expiry?format=pdf"] {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_parameter", "\(path): \(r.text)")
            }

            // The start page counts it and links to the console's expiry page.
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let home = try await b.go(.get, "/home")
            #expect(home.html.contains(#"<a href="/expiry"><strong class="count">1</strong> passwords past the maximum age their policy allows"#),
                "\(home.html)")
            let page = try await b.go(.get, "/expiry")
            #expect(page.status == .ok && page.html.contains("expiry-host") && page.html.contains(">expired</span>"))
            #expect(!page.html.contains("expiry-other"), "90 days away is not within 14")
            #expect(try await b.go(.get, "/expiry?within=100").html.contains("expiry-other"))
        }
    }
}
