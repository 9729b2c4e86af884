import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The console's administration pages in process: agents and bundles, groups with their
/// rotation and run report, the integrity report and run, listener approval by a second
/// administrator, users, roles and API tokens.
@Suite struct WebConsoleAdminTests {

    /// Groups, users and agents show 100 a page, with "Next 100" to the rest and "First page" back.
    @Test func longListsPageByHundred() async throws {
        try await Harness.make().run { api in
            let h = api.harness
            let admin = try await api.admin()
            for i in 0..<102 { _ = try await api.call(.post, "/groups", token: admin, json: ["name": String(format: "grp%03d", i)]) }
            try await h.custody.store.write { db in
                for i in 0..<101 {
                    try UserRecord(id: "bu\(i)", username: String(format: "usr%03d", i), passwordHash: "x", role: .passwordUser, superAdmin: false,
                        email: nil, mustChangePassword: false, createdAt: Date()).insert(db)
                    try AgentRecord(id: "ag\(i)", hostname: String(format: "host%03d", i), os: "linux", arch: "x86_64", version: "1",
                        signingKey: Data(count: 32), sealingKey: Data(count: 32), resourceId: nil, enrolledAt: 0, lastSeenAt: 0, revokedAt: nil).insert(db)
                }
            }
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            for (path, first, last) in [("/groups", "grp000", "grp101"), ("/users", "admin", "usr100"), ("/agents", "host000", "host100")] {
                let one = try await b.go(.get, path)
                #expect(one.status == .ok && one.html.contains(first) && !one.html.contains(last) && !one.html.contains("First page"), "\(path)")
                let href = try #require(one.html.range(of: #"rel="next" href="([^"]+)""#, options: .regularExpression).map {
                    String(one.html[$0].split(separator: "\"")[3]).replacingOccurrences(of: "&amp;", with: "&")
                }, "\(path) has a next page")
                let two = try await b.go(.get, href)
                #expect(two.status == .ok && two.html.contains(last) && !two.html.contains(">\(first)<") && two.html.contains("First page"), "\(path)")
                #expect(!two.html.contains("rel=\"next\""))
                #expect(try await b.go(.get, path + "?after=not-a-cursor").html.contains(first), "a bad cursor is the first page")
            }
        }
    }

    @Test func agentsBundlesAndTheIntegrityReport() async throws {
        try await Harness.make().run { api in
            let h = api.harness
            _ = try await api.admin()
            try FileManager.default.createDirectory(atPath: h.custody.config.tlsDir, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: h.custody.config.tlsDir + "/server.crt", contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/agents")
            let csrf = Browser.csrf(page.html)
            #expect(page.status == .ok && page.html.contains("No agents enrolled yet."))
            let bad = try await b.go(.post, "/agents/bundle", form: ["_csrf": csrf, "os": "solaris"])
            #expect(bad.status == .badRequest && bad.html.contains("must be one of linux, windows"))
            let bundle = try await b.go(.post, "/agents/bundle", form: ["_csrf": csrf, "os": "linux", "serverURL": "https://vault.example.test:7272"])
            #expect(bundle.status == .ok && bundle.headers[.contentType] == "application/gzip")
            #expect(bundle.headers[.contentDisposition]?.contains("custody-agent-linux.tar.gz") == true)
            let audit = try await b.go(.get, "/audit?operation=agent_package")
            #expect(audit.html.contains("https://vault.example.test:7272"))
            // The integrity report, its CSV, and a run followed on its page.
            let report = try await b.go(.get, "/integrity")
            #expect(report.html.contains("Run Integrity Check") && report.html.contains("0 accounts with remote reset"))
            #expect(try await b.go(.get, "/integrity.csv").html.hasPrefix("resource,account,status"))
            let run = try await b.go(.post, "/integrity/run", form: ["_csrf": Browser.csrf(report.html)])
            let runPath = try #require(run.headers[.location])
            #expect(runPath.hasPrefix("/integrity/runs/"))
            let shown = try await b.go(.get, runPath)
            #expect(shown.status == .ok && shown.html.contains("id=\"run-summary\"") && shown.html.contains("manual"))
            #expect(!shown.html.contains("id=\"refresh\""), "a run with nothing to check is finished at once")
        }
    }

    /// An agent named like a resource in agent mode shows it as waiting; the administrator approves
    /// the binding on the page, then unbinds it.
    @Test func aPendingBindingIsApprovedAndUnboundOnTheAgentsPage() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("web-agent-host", token: admin)
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agent"])
            let agent = AgentRecord(id: newID(), hostname: "web-agent-host.example.test", os: "linux", arch: "x86_64", version: "t",
                signingKey: Data(count: 32), sealingKey: Data(count: 32), resourceId: nil, enrolledAt: 0, lastSeenAt: 0)
            try await api.harness.custody.store.write { try agent.insert($0) }
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/agents")
            #expect(page.html.contains("web-agent-host</td>") == false && page.html.contains("<em>waiting</em>"), "\(page.html)")
            let bound = try await b.go(.post, "/agents/\(agent.id)/bind", form: ["_csrf": Browser.csrf(page.html), "resourceId": rid])
            #expect(bound.headers[.location] == "/agents?notice=bound", "\(bound.status) \(bound.html)")
            #expect(try await api.call(.get, "/agents", token: admin).array.first?["bindings"] as? [String] == [rid])
            let after = try await b.go(.get, "/agents?notice=bound")
            #expect(after.html.contains("Unbind") && !after.html.contains("<em>waiting</em>"))
            let unbound = try await b.go(.post, "/agents/\(agent.id)/unbind/\(rid)", form: ["_csrf": Browser.csrf(after.html)])
            #expect(unbound.headers[.location] == "/agents?notice=unbound")
            #expect(try await api.call(.get, "/agents", token: admin).array.first?["bindings"] as? [String] == [])
        }
    }

    @Test func groupsRotationRunNowAndTheRunReport() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("web-grp", token: admin)
            _ = try await api.account(rid, "svc", password: "Svc-Pass-0001!", token: admin)
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["dnsName": "127.0.0.1"])
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh", "port": 1])
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let list = try await b.go(.get, "/groups")
            let csrf = Browser.csrf(list.html)
            let empty = try await b.go(.post, "/groups", form: ["_csrf": csrf, "name": ""])
            #expect(empty.status == .badRequest && empty.html.contains("field-error"))
            let made = try await b.go(.post, "/groups", form: ["_csrf": csrf, "name": "web-nightly", "passwordPolicy": "Strong"])
            let path = try #require(made.headers[.location]?.split(separator: "?").first.map(String.init))
            let dup = try await b.go(.post, "/groups", form: ["_csrf": csrf, "name": "WEB-nightly"])
            #expect(dup.status == .conflict && dup.html.contains("field-error") && dup.html.contains("exists"))
            let gid = String(path.dropFirst("/groups/".count))
            _ = try await b.go(.post, path + "/resources", form: ["_csrf": csrf, "r:\(rid)": "1"])
            #expect(try await api.call(.get, "/groups/\(gid)", token: admin).object["resourceIds"] as? [String] == [rid])
            #expect(try await b.go(.get, path).html.contains("name=\"r:\(rid)\" value=\"1\" checked"))
            let badAt = try await b.go(.post, path + "/rotation", form: ["_csrf": csrf, "kind": "days", "at": "25:99", "everyDays": "7"])
            #expect(badAt.status == .badRequest && badAt.html.contains("HH:MM") && badAt.html.contains("value=\"25:99\""))
            #expect(try await api.call(.get, "/groups/\(gid)/rotation", token: admin).status == .notFound)
            let saved = try await b.go(.post, path + "/rotation", form: ["_csrf": csrf, "kind": "days", "at": "03:30", "everyDays": "7",
                "timeZone": "Europe/Paris", "windowFrom": "22:00", "windowTo": "05:00"])
            #expect(saved.headers[.location] == path + "?notice=saved")
            let rotation = try await api.call(.get, "/groups/\(gid)/rotation", token: admin).object
            let schedule = rotation["schedule"] as? [String: Any] ?? [:]
            #expect(schedule["everyDays"] as? Int == 7 && schedule["at"] as? String == "03:30" && schedule["timeZone"] as? String == "Europe/Paris")
            let page = try await b.go(.get, path)
            #expect(page.html.contains("id=\"next-run\"") && page.html.contains("value=\"22:00\""))
            // Run now: the run's page reports each account (the target refuses connections: it does not succeed).
            let run = try await b.go(.post, path + "/run", form: ["_csrf": csrf])
            let runPath = try #require(run.headers[.location])
            let report = try await b.go(.get, runPath)
            #expect(report.html.contains("web-grp") && report.html.contains("svc") && report.html.contains("1 accounts"), "\(report.html)")
            #expect(!report.html.contains("1 succeeded"))
            #expect(try await b.go(.get, path).html.contains("href=\"\(runPath)\""))
            // A password user sees neither the group nor its run.
            _ = try await api.user("web_grp_user", role: "passwordUser", adminToken: admin)
            let u = Browser(api.client)
            _ = try await u.signIn("web_grp_user", API.userPassword + "x")
            #expect(try await u.go(.get, path).status == .notFound)
            #expect(try await u.go(.get, runPath).status == .notFound)
            _ = try await b.go(.post, path + "/rotation/remove", form: ["_csrf": csrf])
            #expect(try await api.call(.get, "/groups/\(gid)/rotation", token: admin).status == .notFound)
            #expect(try await b.go(.post, path + "/delete", form: ["_csrf": csrf]).headers[.location] == "/groups?notice=deleted")
        }
    }

    @Test func aListenerIsApprovedOnlyByTheOtherAdministrator() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            _ = try await api.user("web_second", role: "administrator", adminToken: admin)
            let made = try await api.call(.post, "/listeners", token: admin, json: ["name": "notify-cmdb", "kind": "script", "resourceTypes": ["Linux"],
                "script": "#!/bin/sh\necho '<script>alert(1)</script>'\n", "secretsVia": "stdin", "approver": "web_second"])
            let lid = try #require(made.object["id"] as? String)
            let author = Browser(api.client)
            _ = try await author.signIn("admin", API.adminPassword)
            let own = try await author.go(.get, "/listeners/\(lid)")
            #expect(own.html.contains("You wrote this revision") && !own.html.contains("id=\"approve\""))
            #expect(own.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
            // The button is hidden, and the route refuses too.
            let forced = try await author.go(.post, "/listeners/\(lid)/approve", form: ["_csrf": Browser.csrf(own.html), "revision": "1"])
            #expect(forced.status == .forbidden || forced.status == .conflict)
            let second = Browser(api.client)
            _ = try await second.signIn("web_second", API.userPassword + "x")
            let list = try await second.go(.get, "/listeners")
            #expect(list.html.contains("notify-cmdb") && list.html.contains("pendingApproval"))
            let review = try await second.go(.get, "/listeners/\(lid)")
            #expect(review.html.contains("id=\"approve\"") && review.html.contains("name=\"revision\" value=\"1\""))
            let stale = try await second.go(.post, "/listeners/\(lid)/approve", form: ["_csrf": Browser.csrf(review.html), "revision": "2"])
            #expect(stale.status != .seeOther)
            let ok = try await second.go(.post, "/listeners/\(lid)/approve", form: ["_csrf": Browser.csrf(review.html), "revision": "1"])
            #expect(ok.headers[.location] == "/listeners/\(lid)?notice=approved")
            #expect(try await api.call(.get, "/listeners/\(lid)", token: admin).object["status"] as? String == "active")
            _ = try await second.go(.post, "/listeners/\(lid)/disable", form: ["_csrf": Browser.csrf(review.html)])
            #expect(try await api.call(.get, "/listeners/\(lid)", token: admin).object["status"] as? String == "disabled")
        }
    }

    @Test func usersRolesAndTokensShownOnce() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/users")
            let csrf = Browser.csrf(page.html)
            let weak = try await b.go(.post, "/users", form: ["_csrf": csrf, "username": "web_new", "password": "x", "role": "passwordUser",
                "email": "new@example.test"])
            #expect(weak.status == .badRequest && weak.html.contains("field-error") && weak.html.contains("value=\"web_new\""))
            #expect(!weak.html.contains("value=\"x\""), "a typed password is never echoed back")
            let made = try await b.go(.post, "/users", form: ["_csrf": csrf, "username": "web_new", "password": "First-Pass-2026!",
                "role": "passwordUser"])
            #expect(made.headers[.location] == "/users?notice=created")
            let users = try await api.call(.get, "/users", token: admin).array
            let uid = try #require(users.first { $0["username"] as? String == "web_new" }?["id"] as? String)
            _ = try await b.go(.post, "/users/\(uid)/role", form: ["_csrf": csrf, "role": "passwordAuditor"])
            #expect(try await api.call(.get, "/users/\(uid)", token: admin).object["role"] as? String == "passwordAuditor")
            // Tokens: created and shown once, listed without the secret, revoked.
            let tokens = try await b.go(.get, "/tokens")
            let badDays = try await b.go(.post, "/tokens", form: ["_csrf": csrf, "name": "ci", "days": "-3"])
            #expect(badDays.status == .badRequest && badDays.html.contains("days"))
            let created = try await b.go(.post, "/tokens", form: ["_csrf": Browser.csrf(tokens.html), "name": "ci", "days": "30"])
            let token = try #require(created.html.range(of: #"id="new-token" class="secret">([^<]+)<"#, options: .regularExpression)
                .map { String(created.html[$0].split(separator: ">")[1].dropLast()) })
            #expect(try await api.call(.get, "/auth/me", token: token).status == .ok)
            let listed = try await b.go(.get, "/tokens")
            #expect(listed.html.contains(">ci<") && !listed.html.contains(token))
            let tid = try #require(try await api.call(.get, "/tokens", token: admin).array.first?["id"] as? String)
            _ = try await b.go(.post, "/tokens/\(tid)/revoke", form: ["_csrf": csrf])
            #expect(try await api.call(.get, "/auth/me", token: token).status == .unauthorized)
            #expect(try await b.go(.post, "/users/\(uid)/delete", form: ["_csrf": csrf]).headers[.location] == "/users?notice=deleted")
            #expect(try await api.call(.get, "/users/\(uid)", token: admin).status == .notFound)
        }
    }
}
