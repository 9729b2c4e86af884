import Foundation
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// The console's management flows in process, each checked against the API's own state: a
/// password changed locally with the policy shown and the generator, edits with field errors,
/// deletes, shares and ownership.
@Suite struct WebConsoleManageTests {

    @Test func aLocalChangeShowsThePolicyOffersTheGeneratorAndRefusesABreach() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            try await api.call(.post, "/policies", token: admin, json: ["name": "WebStrict", "minLength": 14, "maxLength": 20,
                "requireMixedCase": true, "requireDigits": true, "minSpecial": 1, "historyDepth": 2])
            let rid = try await api.resource("web-pol", token: admin)
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["passwordPolicy": "WebStrict"])
            let aid = try await api.account(rid, "svc", password: "Start-Pass-0001!", token: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let path = "/resources/\(rid)/accounts/\(aid)"
            let page = try await b.go(.get, path)
            let csrf = Browser.csrf(page.html)
            #expect(page.html.contains("<strong>WebStrict</strong>") && page.html.contains("14 to 20 characters"))
            #expect(page.html.contains("not one of the last 2") && page.html.contains("data-url=\"\(path)/generate\""))
            let answer = try await b.go(.get, path + "/generate")
            let generated = try #require((try JSONSerialization.jsonObject(with: Data(answer.html.utf8)) as? [String: String])?["password"])
            #expect((14...20).contains(generated.count) && generated.contains(where: \.isNumber))
            func stored() async throws -> String? {
                try await api.call(.get, path + "/password", token: admin).object["password"] as? String
            }
            // A breach: the error by the form, the vault unchanged.
            let weak = try await b.go(.post, path + "/password", form: ["_csrf": csrf, "mode": "local", "newPassword": "short"])
            #expect(weak.status == .badRequest && weak.html.contains("field-error") && weak.html.contains("WebStrict"))
            #expect(try await stored() == "Start-Pass-0001!")
            #expect(try await b.go(.post, path + "/password", form: ["mode": "local", "newPassword": generated]).status == .forbidden)
            let done = try await b.go(.post, path + "/password", form: ["_csrf": csrf, "mode": "local", "newPassword": generated, "reason": "web"])
            #expect(done.status == .seeOther && done.headers[.location] == path + "?notice=changed")
            #expect(try await stored() == generated)
            #expect(try await b.go(.get, path + "?notice=changed").html.contains("Password changed in the vault."))
            // Empty: Custody generates one within the policy.
            _ = try await b.go(.post, path + "/password", form: ["_csrf": csrf, "mode": "local", "newPassword": ""])
            let second = try #require(try await stored())
            #expect(second != generated && (14...20).contains(second.count))
            let audit = try await api.call(.get, "/audit?operation=change_password", token: admin).array
            #expect(audit.count == 2 && audit.contains { ($0["message"] as? String)?.contains("generated") == true })
            #expect(!audit.contains { "\($0)".contains(generated) || "\($0)".contains(second) })
        }
    }

    @Test func editDeleteShareAndTransferGoThroughTheAPIsChecks() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let admin2 = try await api.user("web_admin2", role: "administrator", adminToken: admin)
            _ = try await api.user("web_user", role: "passwordUser", adminToken: admin)
            let rid = try await api.resource("web-edit", token: admin)
            let aid = try await api.account(rid, "deploy", password: "Deploy-Pass-1!", token: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/resources/\(rid)")
            let csrf = Browser.csrf(page.html)
            #expect(page.html.contains("id=\"save-resource\"") && page.html.contains("id=\"delete-resource\"") && page.html.contains("Not shared."))
            // Bad input: the error by the form, what was typed kept, nothing changed.
            let bad = try await b.go(.post, "/resources/\(rid)/edit", form: ["_csrf": csrf, "name": "web-edit", "dnsName": "bad host!"])
            #expect(bad.status == .badRequest && bad.html.contains("value=\"bad host!\" required><p class=\"field-error\" role=\"alert\">field "),
                "the error stands next to its field")
            #expect(try await api.call(.get, "/resources/\(rid)", token: admin).object["dnsName"] as? String == "web-edit.example.test")
            let saved = try await b.go(.post, "/resources/\(rid)/edit", form: ["_csrf": csrf, "name": "web-edit", "dnsName": "web-edit.example.test",
                "description": "<b>payroll</b>", "location": "DC 2"])
            #expect(saved.headers[.location] == "/resources/\(rid)?notice=saved")
            let after = try await b.go(.get, "/resources/\(rid)")
            #expect(after.html.contains("&lt;b&gt;payroll&lt;/b&gt;") && !after.html.contains("<b>payroll</b>"))
            // Share the account (view) with a user, who then sees it; manage is refused on an account.
            let acc = "/resources/\(rid)/accounts/\(aid)"
            let manage = try await b.go(.post, acc + "/shares", form: ["_csrf": csrf, "name": "web_user", "kind": "user", "permission": "manage"])
            #expect(manage.status == .badRequest && manage.html.contains("not on single accounts"))
            let unknown = try await b.go(.post, acc + "/shares", form: ["_csrf": csrf, "name": "nobody", "kind": "user", "permission": "view"])
            #expect(unknown.status == .badRequest && unknown.html.contains("no user named"))
            _ = try await b.go(.post, acc + "/shares", form: ["_csrf": csrf, "name": "web_user", "kind": "user", "permission": "view"])
            let u = Browser(api.client)
            _ = try await u.signIn("web_user", API.userPassword + "x")
            let seen = try await u.go(.get, acc)
            #expect(seen.status == .ok && seen.html.contains("deploy") && !seen.html.contains("id=\"delete-account\""))
            #expect(!seen.html.contains("Shared with"), "a view share cannot manage shares")
            #expect(try await u.go(.post, acc + "/delete", form: ["_csrf": Browser.csrf(seen.html)]).status == .forbidden)
            _ = try await b.go(.post, acc + "/shares", form: ["_csrf": csrf, "action": "remove", "name": "web_user", "kind": "user"])
            #expect(try await u.go(.get, acc).status == .notFound)
            // Account edit, then delete.
            _ = try await b.go(.post, acc + "/edit", form: ["_csrf": csrf, "description": "deploy key", "notes": "rotates monthly"])
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)", token: admin).object["notes"] as? String == "rotates monthly")
            #expect(try await b.go(.post, acc + "/delete", form: ["_csrf": csrf]).headers[.location] == "/resources/\(rid)?notice=deleted")
            #expect(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)", token: admin).status == .notFound)
            // Ownership: only to an administrator.
            let toUser = try await b.go(.post, "/resources/\(rid)/owner", form: ["_csrf": csrf, "username": "web_user"])
            #expect(toUser.status == .badRequest && toUser.html.contains("field-error"))
            #expect(try await b.go(.post, "/resources/\(rid)/owner", form: ["_csrf": csrf, "username": "web_admin2"]).status == .seeOther)
            #expect(try await api.call(.get, "/resources/\(rid)", token: admin2).object["owner"] as? String == "web_admin2")
            // Delete as the new owner.
            let b2 = Browser(api.client)
            _ = try await b2.signIn("web_admin2", API.userPassword + "x")
            let own = try await b2.go(.get, "/resources/\(rid)")
            #expect(try await b2.go(.post, "/resources/\(rid)/delete", form: ["_csrf": Browser.csrf(own.html)]).headers[.location] == "/resources?notice=deleted")
            #expect(try await api.call(.get, "/resources/\(rid)", token: admin2).status == .notFound)
            let audit = try await api.call(.get, "/audit?limit=100", token: admin).array.compactMap { $0["operation"] as? String }
            for op in ["update_resource", "share", "update_account", "delete_account", "transfer_ownership", "delete_resource"] {
                #expect(audit.contains(op), "\(op) audited")
            }
        }
    }

    @Test func theResetConfigurationFormSavesWhatTheAPIAcceptsAndNothingElse() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("web-rc", token: admin)
            _ = try await api.account(rid, "root", password: "Root-Pass-0001!", token: admin)
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = try await b.go(.get, "/resources/\(rid)/reset-config")
            let csrf = Browser.csrf(page.html)
            #expect(page.status == .ok && page.html.contains("<option value=\"none\" selected>") && page.html.contains("<option value=\"root\">"))
            for (field, value, message) in [("port", "99999", "port"), ("hostKey", "MD5:aa", "hostKey"), ("prompts", "nonsense", "key=value"),
                ("prompts", "shell=([", "regular expression")]
            {
                var form = ["_csrf": csrf, "mode": "agentless", "protocol": "ssh", "loginAccount": "root"]
                form[field] = value
                let bad = try await b.go(.post, "/resources/\(rid)/reset-config", form: form)
                #expect(bad.status == .badRequest && bad.html.contains("field-error") && bad.html.contains(message), "\(field)=\(value)")
                if field == "port" { #expect(bad.html.contains("value=\"99999\" inputmode=\"numeric\" placeholder=\"the protocol's default\"><p class=\"field-error\"")) }
                #expect(try await api.call(.get, "/resources/\(rid)/reset-config", token: admin).status == .notFound, "nothing saved")
            }
            let saved = try await b.go(.post, "/resources/\(rid)/reset-config", form: ["_csrf": csrf, "mode": "agentless", "protocol": "telnet",
                "port": "2323", "loginAccount": "root", "elevation": "none", "copyToStartup": "on", "options": "lineEnding=crlf\npromptTimeout=20",
                "prompts": "shell=[#$] ?$"])
            #expect(saved.headers[.location] == "/resources/\(rid)/reset-config?notice=saved")
            let config = try await api.call(.get, "/resources/\(rid)/reset-config", token: admin).object
            #expect(config["protocol"] as? String == "telnet" && config["port"] as? Int == 2323 && config["copyToStartup"] as? Bool == true)
            #expect(config["options"] as? [String: String] == ["lineEnding": "crlf", "promptTimeout": "20"])
            #expect((config["prompts"] as? [String: String])?["shell"] == "[#$] ?$")
            let again = try await b.go(.get, "/resources/\(rid)/reset-config")
            #expect(again.html.contains("value=\"2323\"") && again.html.contains("lineEnding=crlf") && again.html.contains("name=\"copyToStartup\" checked"))
        }
    }

    @Test func aManagerByShareAddsAndRemovesSharesInTheConsole() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            _ = try await api.user("web_pa", role: "passwordAdministrator", adminToken: admin)
            _ = try await api.user("web_reader", role: "passwordUser", adminToken: admin)
            let rid = try await api.resource("web-delegated", token: admin)
            try await api.call(.put, "/resources/\(rid)/shares", token: admin, json: ["users": [["username": "web_pa", "permission": "manage"]]])
            let b = Browser(api.client)
            _ = try await b.signIn("web_pa", API.userPassword + "x")
            let page = try await b.go(.get, "/resources/\(rid)")
            #expect(page.html.contains("Shared with") && page.html.contains(">web_pa<"))
            let added = try await b.go(.post, "/resources/\(rid)/shares", form: ["_csrf": Browser.csrf(page.html), "name": "web_reader",
                "kind": "user", "permission": "view"])
            #expect(added.status == .seeOther, "\(added.html)")
            let shares = try await api.call(.get, "/resources/\(rid)/shares", token: admin).object["users"] as? [[String: String]] ?? []
            #expect(Set(shares.map { $0["username"] ?? "" }) == ["web_pa", "web_reader"])
            let raise = try await b.go(.post, "/resources/\(rid)/shares", form: ["_csrf": Browser.csrf(page.html), "name": "web_pa",
                "kind": "user", "permission": "view"])
            #expect(raise.status == .forbidden, "changing one's own grant is still refused")
        }
    }
}
