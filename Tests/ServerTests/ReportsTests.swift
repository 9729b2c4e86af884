import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// The inventory, compliance and activity reports through the API: figures of what the caller may
/// see, rows as JSON and CSV, bad parameters refused.
@Suite struct ReportsTests {
    @Test func inventoryAndComplianceCountWhatTheCallerSees() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            #expect(try await api.call(.post, "/policies", token: admin, json: ["name": "Lax", "minLength": 4, "maxLength": 20]).status == .created)
            let linux = try await api.resource("rep-linux", token: admin)
            try await api.call(.patch, "/resources/\(linux)", token: admin, json: ["passwordPolicy": "Lax"])
            let weak = try await api.account(linux, "weak", password: "abcd", token: admin)
            _ = try await api.account(linux, "app", password: "Good-Enough-Pass-1", token: admin)
            let win = try await api.resource("rep-win", token: admin, type: "Windows")
            _ = try await api.account(win, "Administrator", password: "Windows-Pass-123!", token: admin)
            // Under Strong now, "abcd" breaks its rules.
            #expect(try await api.call(.patch, "/resources/\(linux)", token: admin, json: ["passwordPolicy": "Strong"]).status == .ok)
            let pu = try await api.user("rep-pu", role: "passwordUser", adminToken: admin)
            #expect(try await api.call(.put, "/resources/\(linux)/accounts/\(weak)/shares", token: admin,
                json: ["users": [["username": "rep-pu", "permission": "view"]]]).status == .noContent)

            let inv = try await api.call(.get, "/reports/inventory", token: admin).object
            let summary = inv["summary"] as? [String: Any] ?? [:]
            #expect(summary["resources"] as? Int == 2 && summary["accounts"] as? Int == 3 && summary["resourceTypes"] as? Int == 2, "\(inv)")
            #expect(summary["owners"] as? Int == 1 && summary["passwordsKnown"] as? Int == 3)
            let byType = (inv["byType"] as? [[String: Any]] ?? []).map { "\($0["name"]!):\($0["resources"]!):\($0["accounts"]!)" }
            #expect(byType == ["Linux:1:2", "Windows:1:1"], "\(byType)")
            let rows = inv["accounts"] as? [[String: Any]] ?? []
            #expect(rows.map { $0["account"] as? String } == ["app", "weak", "Administrator"], "by resource, then account")
            #expect(rows.first { $0["account"] as? String == "weak" }?["sharedWith"] as? Int == 1)
            let csv = try await api.call(.get, "/reports/inventory?format=csv", token: admin)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.hasPrefix("resource,resourceType,owner,account,policy,syncStatus,passwordKnown,resetConfigured,"), "\(csv.text)")
            #expect(csv.text.split(separator: "\n").count == 4 && !csv.text.contains("abcd"))

            let comp = try await api.call(.get, "/reports/compliance", token: admin).object
            let cs = comp["summary"] as? [String: Any] ?? [:]
            #expect(cs["accounts"] as? Int == 3 && cs["nonCompliant"] as? Int == 3 && cs["neverRotated"] as? Int == 3, "\(comp)")
            #expect(cs["policyViolation"] as? Int == 1 && cs["sharedTooWidely"] as? Int == 0 && cs["outOfSync"] as? Int == 0, "\(comp)")
            let bad = (comp["accounts"] as? [[String: Any]] ?? []).first { $0["account"] as? String == "weak" } ?? [:]
            #expect((bad["findings"] as? [String]) == ["neverRotated", "policyViolation"], "\(bad)")
            #expect((bad["violations"] as? [String])?.contains("shorter than 12 characters") == true)
            let wide = try await api.call(.get, "/reports/compliance?maxShared=0", token: admin).object
            #expect((wide["summary"] as? [String: Any])?["sharedTooWidely"] as? Int == 1)
            let ccsv = try await api.call(.get, "/reports/compliance?format=csv", token: admin).text
            #expect(ccsv.hasPrefix("resource,resourceType,owner,account,policy,findings,violations,sharedWith,changedAt,lastResetAt\n"))
            #expect(ccsv.contains("rep-linux,Linux,admin,weak,Strong,neverRotated policyViolation,"), "\(ccsv)")

            // An auditor, who never retrieves a password, reads that it breaks its policy, not which rule.
            let auditor = try await api.user("rep-aud", role: "passwordAuditor", adminToken: admin)
            let audited = try await api.call(.get, "/reports/compliance", token: auditor).object
            let seen = (audited["accounts"] as? [[String: Any]] ?? []).first { $0["account"] as? String == "weak" } ?? [:]
            #expect(seen["violations"] as? [String] == ["breaks its policy"], "\(seen)")

            // Under access control, whose password takes a request, nobody reads the rules either.
            _ = try await api.user("rep-appr", role: "passwordAdministrator", adminToken: admin)
            let gated = try await api.call(.put, "/resources/\(linux)/accounts/\(weak)/access-control", token: admin,
                json: ["approvers": ["users": ["rep-appr"]], "maxMinutes": 60])
            #expect(gated.status == .ok, "\(gated.text)")
            let after = try await api.call(.get, "/reports/compliance", token: admin).object
            #expect(((after["accounts"] as? [[String: Any]] ?? []).first { $0["account"] as? String == "weak" })?["violations"] as? [String]
                == ["breaks its policy"])
            // The inventory opens no password.
            #expect(try await h.custody.reports.facts(for: Principal(userID: "x", username: "x", role: .administrator, superAdmin: true,
                mustChangePassword: false, tokenID: ""), rules: false).allSatisfy { $0.violations.isEmpty })

            // The password user sees the one account shared with it, and no activity.
            let theirs = try await api.call(.get, "/reports/inventory", token: pu).object
            #expect((theirs["accounts"] as? [[String: Any]])?.map { $0["accountId"] as? String } == [weak])
            #expect((try await api.call(.get, "/reports/compliance", token: pu).object["summary"] as? [String: Any])?["accounts"] as? Int == 1)
            #expect(try await api.call(.get, "/reports/activity", token: pu).status == .forbidden)

            for path in ["/reports/compliance?maxShared=-1", "/reports/compliance?maxShared=many", "/reports/inventory?format=pdf",
                "/reports/activity?from=2026-13-01", "/reports/activity?from=2026-02-01&to=2026-01-01", "/reports/activity?from=2020-01-01&to=2026-01-01",
                "/reports/activity?to=yesterday"]
            {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_parameter", "\(path): \(r.text)")
            }
        }
    }

    @Test func activityCountsRetrievalsResetsAndLoginsByUserAndDay() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("act-host", token: admin)
            let aid = try await api.account(rid, "svc", password: "Activity-Pass-123!", token: admin)
            let other = try await api.resource("act-other", token: admin)
            let hidden = try await api.account(other, "svc", password: "Activity-Pass-456!", token: admin)
            let pa = try await api.user("act-pa", role: "passwordAdministrator", adminToken: admin)
            #expect(try await api.call(.put, "/resources/\(rid)/shares", token: admin,
                json: ["users": [["username": "act-pa", "permission": "modify"]]]).status == .noContent)
            for _ in 0..<2 { #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).status == .ok) }
            #expect(try await api.call(.get, "/resources/\(other)/accounts/\(hidden)/password", token: admin).status == .ok)
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: pa).status == .ok)
            #expect(try await api.call(.post, "/auth/login", json: ["username": "act-pa", "password": "wrong-wrong-wrong"]).status == .unauthorized)
            #expect(try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin,
                json: ["resetType": "local", "newPassword": "Activity-Pass-789!"]).status == .ok)

            let today = String(ISO8601DateFormatter().string(from: Date()).prefix(10))
            let all = try await api.call(.get, "/reports/activity", token: admin).object
            let totals = all["totals"] as? [String: Any] ?? [:]
            #expect(totals["retrievals"] as? Int == 4 && totals["resets"] as? Int == 1 && totals["failedLogins"] as? Int == 1, "\(all)")
            let admins = (all["rows"] as? [[String: Any]] ?? []).first { $0["user"] as? String == "admin" && $0["day"] as? String == today } ?? [:]
            #expect(admins["retrievals"] as? Int == 3 && admins["resets"] as? Int == 1 && (admins["logins"] as? Int ?? 0) >= 1, "\(all)")
            #expect((all["byDay"] as? [[String: Any]])?.count == 30 && (all["byDay"] as? [[String: Any]])?.last?["day"] as? String == today)
            #expect((all["byUser"] as? [[String: Any]])?.first?["user"] as? String == "admin")

            // The password administrator reads its own records and those about what is shared with it.
            let seen = try await api.call(.get, "/reports/activity", token: pa).object
            let st = seen["totals"] as? [String: Any] ?? [:]
            #expect(st["retrievals"] as? Int == 3 && st["failedLogins"] as? Int == 1, "not the retrieval of act-other: \(seen)")
            let csv = try await api.call(.get, "/reports/activity?format=csv&from=\(today)&to=\(today)", token: admin).text
            #expect(csv.hasPrefix("day,user,retrievals,resets,logins,failedLogins,refused\n\(today),"), "\(csv)")
            let range = try await api.call(.get, "/reports/activity?from=\(today)&to=\(today)", token: admin).object
            #expect((range["byDay"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func theReportsPageDrawsItsChartsOnTheServerWithEveryTextEscaped() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("page-host", token: admin)
            _ = try await api.account(rid, "svc", password: "Page-Pass-123!", token: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/reports")
            #expect(page.status == .ok)
            let html = page.html
            #expect(html.components(separatedBy: "<svg").count - 1 == 6, "four charts, and two of activity for who may read the audit")
            #expect(html.contains(#"<title>Linux: 1</title>"#) && html.contains(">never rotated</text>"), "\(html)")
            #expect(!html.lowercased().contains("<script>") && html.contains("/reports/compliance.csv") && html.contains("page-host"))
            let csv = try await b.go(.get, "/reports/compliance.csv")
            #expect(csv.status == .ok && csv.html.hasPrefix("resource,resourceType,owner,account,"))

            let pu = try await api.user("page-pu", role: "passwordUser", adminToken: admin)
            _ = pu
            let theirs = Browser(api.client)
            _ = try await theirs.signIn("page-pu", API.userPassword + "x")
            let limited = try await theirs.go(.get, "/reports").html
            #expect(!limited.contains("page-host") && limited.components(separatedBy: "<svg").count - 1 == 4, "no activity, nothing unshared")
            #expect(try await theirs.go(.get, "/reports/activity.csv").status == .forbidden)
        }
    }

    @Test func chartTextIsEscapedAndEmptyChartsSaySo() {
        let svg = SVGChart.bars([.init(label: #"<img src=x onerror="alert(1)">&"#, value: 3, kind: #"bad" onload="x"#)], title: "T<i>")
        #expect(!svg.contains("<img") && !svg.contains(#"onerror=""#) && !svg.contains(#"" onload"#) && svg.contains("&lt;img") && svg.contains("T&lt;i&gt;"))
        #expect(SVGChart.bars([], title: "none").contains("nothing to show"))
        let cols = SVGChart.columns([("2026-06-01", [1, 2, 0]), ("2026-06-02", [0, 0, 0])], series: ["a", "b", "c"], title: "days")
        #expect(cols.components(separatedBy: "<rect").count - 1 == 3 + 2, "a legend swatch per series, a rect per non-zero part")
        #expect(cols.contains(">06-01</text>"))
    }

    @Test func theGateLetsTwoReportsReadTheVaultAtOnce() async throws {
        let gate = ReportGate(limit: 2)
        let count = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    try await gate.run {
                        await count.enter()
                        try await Task.sleep(for: .milliseconds(20))
                        await count.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        let (most, done) = await (count.most, count.done)
        #expect(most == 2 && done == 8)
    }

    actor Counter {
        var now = 0, most = 0
        var done = 0
        func enter() { now += 1; most = max(most, now) }
        func leave() { now -= 1; done += 1 }
    }
}
