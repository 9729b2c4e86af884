import Foundation
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Domain accounts imported with their passwords unknown, and the directory sync, against a real
/// Samba AD DC: the first reset through the DC gives an account its password; a sync (scheduled on
/// an injected clock, and on demand) disables the users and marks missing the accounts that the
/// directory no longer gives, and deletes nothing.
@Suite(.needs("a Samba AD DC (root needed)", SambaDC.ready.available), .serialized) struct DirectorySyncTests {
    typealias DC = SambaDC

    /// A Windows Domain resource on the DC with a domain administrator as its login account.
    static func domain(_ api: API, _ token: String, _ suffix: String) async throws -> String {
        let admin = "dom-admin-\(suffix)"
        DC.user(admin, password: "Dom-Admin-1!")
        #expect(DC.tool(["group", "addmembers", "Domain Admins", admin]).status == 0)
        let rid = try await api.resource("custody.test-\(suffix)", token: token, type: "Windows Domain")
        try await api.call(.patch, "/resources/\(rid)", token: token, json: ["dnsName": DC.host])
        _ = try await api.account(rid, admin, password: "Dom-Admin-1!", token: token)
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: token,
            json: ["mode": "agentless", "loginAccount": admin, "options": ["caFile": DC.caFile]])
        #expect(cfg.status == .ok, "\(cfg.text)")
        return rid
    }

    @Test func domainAccountsAreImportedWithTheirPasswordsUnknownUntilTheFirstReset() async throws {
        #expect(DirectorySignInTests.directory)
        let suffix = UUID().uuidString.prefix(4).lowercased()
        let ou = "OU=Accounts \(suffix),\(DC.baseDN)"
        #expect(DC.tool(["ou", "add", ou]).status == 0)
        for u in ["a", "b", "c", "off"] { DC.user("acct-\(u)-\(suffix)", password: "Acct-Pass-1!", in: ou) }
        DC.modify("CN=acct-off-\(suffix),\(ou)", "userAccountControl", "514")
        try await Harness.make().run { api in
            let admin = try await api.admin()
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: DirectorySignInTests.settings).status == .noContent)
            let rid = try await Self.domain(api, admin, suffix)
            _ = try await api.account(rid, "acct-c-\(suffix)", password: "Acct-Pass-1!", token: admin)
            let linux = try await api.resource("not-a-domain-\(suffix)", token: admin)
            let wrong = try await api.call(.post, "/directory/import/resources", token: admin, json: ["accountsBase": ou, "domainResource": linux])
            #expect(wrong.errorCode == "invalid_field" && wrong.text.contains("Windows Domain"), "\(wrong.text)")
            #expect(try await api.call(.post, "/directory/import/resources", token: admin, json: ["accountsBase": ou]).errorCode == "missing_field")
            let pa = try await api.user("acct-pa-\(suffix)", role: "passwordAdministrator", adminToken: admin)
            let hidden = try await api.call(.post, "/directory/import/resources", token: pa, json: ["accountsBase": ou, "domainResource": rid])
            #expect(hidden.status == .notFound, "a resource the caller cannot see: \(hidden.text)")

            let r = try await api.call(.post, "/directory/import/resources", token: admin, json: ["accountsBase": ou, "domainResource": rid]).object
            let accounts = try #require(r["accounts"] as? [String: Any], "\(r)")
            #expect(Set(accounts["created"] as? [String] ?? []) == ["acct-a-\(suffix)", "acct-b-\(suffix)"], "\(r)")
            #expect(accounts["existing"] as? [String] == ["acct-c-\(suffix)"], "\(r)")
            #expect((accounts["skipped"] as? [[String: String]])?.first?["name"] == "acct-off-\(suffix)", "\(r)")
            let list = try await api.call(.get, "/resources/\(rid)/accounts", token: admin).array
            let a = try #require(list.first { $0["loginName"] as? String == "acct-a-\(suffix)" })
            let aid = try #require(a["id"] as? String)
            #expect(a["passwordKnown"] as? Bool == false && a["syncStatus"] as? String == "neverChecked", "\(a)")
            #expect(list.first { $0["loginName"] as? String == "acct-c-\(suffix)" }?["passwordKnown"] as? Bool == true)
            let none = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin)
            #expect(none.status == .conflict && none.errorCode == "password_unknown", "\(none.text)")
            #expect(try await api.call(.get, "/audit?operation=directory_import_account", token: admin).array.count == 2)

            // A verify has nothing to log in with: it says so and tries nothing.
            let v = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
            let verified = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String), token: admin)
            #expect((verified["result"] as? [String: Any])?["code"] as? String == "passwordUnknown", "\(verified)")
            // The integrity run skips it, and checks the others.
            let start = try await api.call(.post, "/integrity/run", token: admin)
            let run = try await api.finishedRun("/integrity-runs/\(try #require(start.object["runId"] as? String))", token: admin)
            let entry = (run["accounts"] as? [[String: Any]])?.first { $0["account"] as? String == "acct-a-\(suffix)" }
            #expect(entry?["state"] as? String == "skipped" && (entry?["message"] as? String)?.contains("no password") == true, "\(run)")

            // The first reset, through the DC with the login account, gives it one.
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
            let task = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: admin)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            let now = try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String)
            #expect(DC.passwordIs("acct-a-\(suffix)", now) && !DC.passwordIs("acct-a-\(suffix)", "Acct-Pass-1!"))
            let after = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)", token: admin).object
            #expect(after["passwordKnown"] as? Bool == true && after["syncStatus"] as? String == "inSync", "\(after)")
            // Again: nothing new.
            let again = try await api.call(.post, "/directory/import/resources", token: admin, json: ["accountsBase": ou, "domainResource": rid]).object
            #expect(((again["accounts"] as? [String: Any])?["created"] as? [String])?.isEmpty == true, "\(again)")
        }
    }

    @Test func theSyncRunsDailyAndOnDemandAndDisablesWhatTheDirectoryNoLongerGives() async throws {
        #expect(DirectorySignInTests.directory)
        let suffix = UUID().uuidString.prefix(4).lowercased()
        let group = "Sync Staff \(suffix)"
        let groupDN = "CN=\(group),\(DC.usersDN)"
        let ou = "OU=Sync \(suffix),\(DC.baseDN)"
        #expect(DC.tool(["group", "add", group]).status == 0 && DC.tool(["ou", "add", ou]).status == 0)
        for u in ["u1", "u2"] {
            DC.user("sync-\(u)-\(suffix)", password: "Sync-Pass-1!")
            DC.tool(["group", "addmembers", group, "sync-\(u)-\(suffix)"])
        }
        for u in ["x", "y"] { DC.user("svc-\(u)-\(suffix)", password: "Svc-Acct-1!", in: ou) }
        let pc = "CN=syncpc-\(suffix),\(ou)"
        let added = DC.ldap("ldapadd", ldif: """
            dn: \(pc)
            objectClass: computer
            sAMAccountName: SYNCPC-\(suffix.uppercased())$
            dNSHostName: syncpc-\(suffix).custody.test
            operatingSystem: Windows Server 2022 Standard
            userAccountControl: 4096

            """)
        #expect(added.status == 0, "\(added.out)")
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:30:00Z")!.timeIntervalSince(clock.now))
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await Self.domain(api, admin, suffix)
            var settings = DirectorySignInTests.settings
            settings["roleMappings"] = (settings["roleMappings"] as? [[String: String]] ?? []) + [["group": groupDN, "role": "passwordAuditor"]]
            var sync: [String: Any] = ["dailyAt": "02:00", "timeZone": "UTC", "users": ["groups": [groupDN]],
                "resources": [["base": ou, "groupByOU": false, "accountsBase": ou, "domainResource": rid]], "everyHour": true]
            settings["directorySync"] = sync
            let typo = try await api.call(.put, "/settings/directory", token: admin, json: settings)
            #expect(typo.errorCode == "unknown_field" && typo.text.contains("directorySync.everyHour"), "\(typo.text)")
            sync["everyHour"] = nil
            settings["directorySync"] = sync
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            #expect(try await api.call(.get, "/settings/directory", token: admin).object["directorySync"] as? [String: Any] != nil)

            // Before 02:00 nothing runs; at 02:00 it runs once.
            #expect(try await h.custody.directory.syncDue(with: h.custody.directoryImports) == nil)
            clock.advance(95 * 60)
            let first = try #require(try await h.custody.directory.syncDue(with: h.custody.directoryImports))
            #expect(first.ok && Set(first.users?.created ?? []) == ["sync-u1-\(suffix)", "sync-u2-\(suffix)"], "\(first)")
            #expect(Set(first.resources.first?.accounts?.created ?? []) == ["svc-x-\(suffix)", "svc-y-\(suffix)"], "\(first)")
            #expect(first.resources.first?.created == ["syncpc-\(suffix).custody.test"] && first.resources.first?.gone.isEmpty == true, "\(first)")
            #expect(try await h.custody.directory.syncDue(with: h.custody.directoryImports) == nil, "once a day")
            let session = try #require(try await api.call(.post, "/auth/login", json: ["username": "sync-u2-\(suffix)", "password": "Sync-Pass-1!"])
                .object["token"] as? String)

            // The directory changes: one user leaves the group, one account is deleted.
            #expect(DC.tool(["group", "removemembers", group, "sync-u2-\(suffix)"]).status == 0)
            #expect(DC.tool(["user", "delete", "svc-y-\(suffix)"]).status == 0)
            #expect(DC.ldap("ldapdelete", [pc]).status == 0)
            let pa = try await api.user("sync-pa-\(suffix)", role: "administrator", adminToken: admin)
            #expect(try await api.call(.post, "/directory/sync", token: pa).status == .forbidden, "super-administrators only")
            let now = try await api.call(.post, "/directory/sync", token: admin).object
            #expect(now["ok"] as? Bool == true && now["disabled"] as? [String] == ["sync-u2-\(suffix)"], "\(now)")
            let resources = try #require((now["resources"] as? [[String: Any]])?.first?["accounts"] as? [String: Any])
            #expect(resources["missing"] as? [String] == ["svc-y-\(suffix)"], "\(resources)")
            #expect((now["resources"] as? [[String: Any]])?.first?["gone"] as? [String] == ["syncpc-\(suffix).custody.test"], "\(now)")
            #expect(try await api.call(.get, "/auth/me", token: session).status == .unauthorized, "its sessions ended")
            #expect(try await api.call(.post, "/auth/login", json: ["username": "sync-u2-\(suffix)", "password": "Sync-Pass-1!"]).status
                == .unauthorized, "disabled")
            let users = try await api.call(.get, "/users", token: admin).array
            #expect(users.first { $0["username"] as? String == "sync-u2-\(suffix)" }?["disabled"] as? Bool == true, "kept, disabled")
            let accounts = try await api.call(.get, "/resources/\(rid)/accounts", token: admin).array
            #expect(accounts.first { $0["loginName"] as? String == "svc-y-\(suffix)" }?["syncStatus"] as? String == "missing", "kept, missing")
            for (op, n) in [("directory_sync", 2), ("directory_user_disabled", 1), ("directory_account_missing", 1), ("directory_resource_gone", 1)] {
                #expect(try await api.call(.get, "/audit?operation=\(op)", token: admin).array.count == n, "\(op)")
            }

            // Back in the group: the next day's sync enables the user again.
            #expect(DC.tool(["group", "addmembers", group, "sync-u2-\(suffix)"]).status == 0)
            clock.advance(24 * 3600)
            let next = try #require(try await h.custody.directory.syncDue(with: h.custody.directoryImports))
            #expect(next.ok && next.disabled.isEmpty && next.users?.unchanged.contains("sync-u2-\(suffix)") == true, "\(next)")
            #expect(next.resources.first?.gone.isEmpty == true, "reported once: \(next)")
            #expect(try await api.call(.post, "/auth/login", json: ["username": "sync-u2-\(suffix)", "password": "Sync-Pass-1!"]).status == .ok)
            // A day later, the morning's token has expired.
            let later = try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).object["token"]
                as? String)
            #expect(try await api.call(.get, "/audit?operation=directory_user_enabled", token: later).array.count == 1)

            // A mapped group that is not in the directory: the sync reads nothing and disables nobody.
            settings["roleMappings"] = (settings["roleMappings"] as? [[String: String]] ?? []) + [["group": "CN=Gone \(suffix),\(DC.usersDN)", "role": "passwordUser"]]
            #expect(try await api.call(.put, "/settings/directory", token: later, json: settings).status == .noContent)
            let broken = try await api.call(.post, "/directory/sync", token: later).object
            #expect(broken["ok"] as? Bool == false && (broken["error"] as? String)?.contains("Gone \(suffix)") == true, "\(broken)")
            #expect((broken["disabled"] as? [String])?.isEmpty == true, "\(broken)")
            #expect(try await api.call(.post, "/auth/login", json: ["username": "sync-u1-\(suffix)", "password": "Sync-Pass-1!"]).status == .ok)
            #expect(try await api.call(.get, "/audit?operation=directory_sync", token: later).array.contains { $0["outcome"] as? String == "failure" })
        }
    }
}
