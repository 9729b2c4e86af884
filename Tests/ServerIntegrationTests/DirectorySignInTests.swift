import Foundation
import GRDB
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Directory sign-in against a real Samba AD DC: settings (the bind password sealed, only for
/// super-administrators), role mapping with nested groups, refusals (no mapped group, disabled,
/// wrong or previous password), local lockout and TOTP, and nothing of the password stored.
@Suite(.needs("a Samba AD DC (root needed)", SambaDC.ready.available), .serialized) struct DirectorySignInTests {
    typealias DC = SambaDC
    static let groups = ["Custody Admins", "Custody Users", "Custody Helpdesk"].map { "CN=\($0),\(DC.usersDN)" }

    /// Groups (the helpdesk nested in the users' group), a service account and five users, made once.
    static let directory: Bool = {
        for g in ["Custody Admins", "Custody Users", "Custody Helpdesk"] { DC.tool(["group", "add", g]) }
        DC.tool(["group", "addmembers", "Custody Users", "Custody Helpdesk"])
        DC.user("custody-svc", password: "Service-Pass-1!")
        for (u, g) in [("dir-admin", "Custody Admins"), ("dir-nested", "Custody Helpdesk"), ("dir-disabled", "Custody Users"), ("dir-totp", "Custody Users"),
            ("dir-lock", "Custody Users")]
        {
            DC.user(u, password: "Dir-Pass-1!")
            DC.tool(["group", "addmembers", g, u])
        }
        DC.user("dir-none", password: "Dir-Pass-1!")
        DC.modify("CN=dir-disabled,\(DC.usersDN)", "userAccountControl", "514")
        return true
    }()

    static var settings: [String: Any] {
        ["url": "ldaps://\(DC.host)", "caFile": DC.caFile, "bindDN": "custody-svc@\(DC.dnsDomain)", "bindPassword": "Service-Pass-1!",
            "baseDN": DC.baseDN, "roleMappings": [["group": Self.groups[0], "role": "administrator"], ["group": Self.groups[1], "role": "passwordUser"]]]
    }

    func login(_ api: API, _ user: String, _ password: String, otp: String? = nil) async throws -> Reply {
        var body = ["username": user, "password": password]
        body["otp"] = otp
        return try await api.call(.post, "/auth/login", json: body)
    }

    var settings: [String: Any] { Self.settings }

    @Test func directoryUsersSignInWithTheRoleTheirGroupsGive() async throws {
        #expect(Self.directory)
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            #expect(try await api.call(.get, "/settings/directory", token: admin).object["configured"] as? Bool == false)
            #expect(try await api.call(.post, "/settings/directory/test", token: admin).object["ok"] as? Bool == false)
            var missing = settings
            missing["bindPassword"] = nil
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: missing).errorCode == "missing_field")
            var plain = settings
            plain["url"] = "http://\(DC.host)"
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: plain).status == .badRequest)
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            let shown = try await api.call(.get, "/settings/directory", token: admin)
            #expect(shown.object["bindPasswordSet"] as? Bool == true && !shown.text.contains("Service-Pass-1!"), "\(shown.text)")
            // Saved again without the password: the stored one stays.
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: missing).status == .noContent)
            let test = try await api.call(.post, "/settings/directory/test", token: admin)
            #expect(test.object["ok"] as? Bool == true && (test.object["outcome"] as? String)?.contains("bound") == true, "\(test.text)")

            let a = try await login(api, "dir-admin", "Dir-Pass-1!")
            #expect(a.status == .ok, "\(a.text)")
            let me = try await api.call(.get, "/auth/me", token: try #require(a.object["token"] as? String)).object
            #expect(me["role"] as? String == "administrator", "\(me)")
            let n = try await login(api, "dir-nested", "Dir-Pass-1!")
            let nestedMe = try await api.call(.get, "/auth/me", token: try #require(n.object["token"] as? String, "\(n.text)")).object
            #expect(nestedMe["role"] as? String == "passwordUser", "a member of a member group: \(nestedMe)")

            for (user, password) in [("dir-none", "Dir-Pass-1!"), ("dir-disabled", "Dir-Pass-1!"), ("dir-admin", "Wrong-Pass-9!"), ("nobody-here", "Dir-Pass-1!")] {
                let r = try await login(api, user, password)
                #expect(r.status == .unauthorized && r.errorCode == "invalid_credentials", "\(user): \(r.text)")
            }
            let audit = try await api.call(.get, "/audit?operation=login&limit=20", token: admin).text
            #expect(audit.contains("none of the mapped directory groups") && audit.contains("disabled"), "\(audit)")
            #expect(!audit.contains("nobody-here"), "a name the directory does not know is not repeated (it may be a password)")

            // The directory decides: a new group gives a new role at the next sign-in.
            DC.tool(["group", "addmembers", "Custody Admins", "dir-nested"])
            let again = try await login(api, "dir-nested", "Dir-Pass-1!")
            let promoted = try await api.call(.get, "/auth/me", token: try #require(again.object["token"] as? String)).object
            #expect(promoted["role"] as? String == "administrator", "\(promoted)")
            DC.tool(["group", "removemembers", "Custody Admins", "dir-nested"])
            #expect(try await api.call(.get, "/audit?operation=directory_role_changed", token: admin).array.count == 1)

            // Nothing of the password is kept; the user cannot be given a local one.
            let stored = try await h.custody.store.read { try UserRecord.filter(Column("username") == "dir-admin").fetchOne($0) }
            #expect(stored?.passwordHash == UserRecord.directoryMarker)
            let own = try await api.call(.post, "/auth/password", token: try #require(a.object["token"] as? String),
                json: ["currentPassword": "Dir-Pass-1!", "newPassword": "Local-Pass-123!"])
            #expect(own.errorCode == "directory_user", "\(own.text)")
            let set = try await api.call(.patch, "/users/\(try #require(stored?.id))", token: admin, json: ["password": "Local-Pass-123!"])
            #expect(set.errorCode == "directory_user", "\(set.text)")
            for patch in [["role": "passwordUser"], ["superAdmin": true]] as [[String: Any]] {
                let r = try await api.call(.patch, "/users/\(try #require(stored?.id))", token: admin, json: patch)
                #expect(r.errorCode == "directory_user", "\(patch): \(r.text)")
            }
            // An API token lasts a session at most: the directory is asked again at the next sign-in.
            let dirToken = try #require(a.object["token"] as? String)
            #expect(try await api.call(.post, "/tokens", token: dirToken, json: ["name": "forever"]).errorCode == "directory_user")
            let soon = ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600))
            let hour = try await api.call(.post, "/tokens", token: dirToken, json: ["name": "an hour", "expiresAt": soon])
            #expect(hour.status == .created)
            let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(7200))
            let chained = try await api.call(.post, "/tokens", token: try #require(hour.object["token"] as? String), json: ["name": "chain", "expiresAt": later])
            #expect(chained.errorCode == "directory_user", "a token cannot outlive the one that makes it: \(chained.text)")
            // However it is typed, one directory account is one user, named as the directory spells it.
            let upper = try await login(api, "DIR-ADMIN", "Dir-Pass-1!")
            #expect(upper.status == .ok, "\(upper.text)")
            #expect(try await api.call(.get, "/users", token: admin).array.filter { ($0["username"] as? String)?.lowercased() == "dir-admin" }.count == 1)
        }
    }

    @Test func thePreviousPasswordLockoutAndTOTPApplyToDirectoryUsers() async throws {
        #expect(Self.directory)
        try await Harness.make().run { api in
            let admin = try await api.admin()
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            // Changed in the directory: the previous password still binds for an hour, but signs in no more.
            DC.setPassword("CN=dir-totp,\(DC.usersDN)", "Dir-Pass-2!")
            #expect(DC.ldapBinds("dir-totp@\(DC.dnsDomain)", "Dir-Pass-1!"))
            #expect(try await login(api, "dir-totp", "Dir-Pass-1!").status == .unauthorized)
            // Without the KDC (kerberos: false, for a closed port 88) the bind alone decides, and takes it.
            var noKDC = settings
            noKDC["kerberos"] = false
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: noKDC).status == .noContent)
            #expect(try await api.call(.get, "/settings/directory", token: admin).object["kerberos"] as? Bool == false)
            #expect(try await login(api, "dir-totp", "Dir-Pass-1!").status == .ok)
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            let t = try await login(api, "dir-totp", "Dir-Pass-2!")
            let token = try #require(t.object["token"] as? String, "\(t.text)")
            let key = try #require(try await api.call(.post, "/auth/totp", token: token, json: [String: String]()).object["secret"] as? String)
            let secret = Fixtures.base32(key)
            let enabled = try await api.call(.post, "/auth/totp", token: token, json: ["otp": TOTP.code(secret, step: TOTP.step(Date()))])
            #expect(enabled.object["enabled"] as? Bool == true, "\(enabled.text)")
            #expect(try await login(api, "dir-totp", "Dir-Pass-2!").errorCode == "otp_required")
            #expect(try await login(api, "dir-totp", "Dir-Pass-2!", otp: TOTP.code(secret, step: TOTP.step(Date()) + 1)).status == .ok)

            for _ in 0..<5 { _ = try await login(api, "dir-lock", "Wrong-Pass-9!") }
            let locked = try await login(api, "dir-lock", "Dir-Pass-1!")
            #expect(locked.status == .tooManyRequests, "\(locked.text)")
        }
    }

    /// The people of a group (nested members too) and of an OU become users with their mapped role;
    /// the disabled, the unmapped and a local user's name are skipped; the group becomes a user group.
    @Test func importingUsersAndTheirGroups() async throws {
        #expect(Self.directory)
        DC.tool(["ou", "add", "OU=Contractors,\(DC.baseDN)"])
        DC.user("dir-contractor", password: "Dir-Pass-1!", in: "OU=Contractors,\(DC.baseDN)")
        DC.user("admin", password: "Dir-Pass-1!", in: "OU=Contractors,\(DC.baseDN)")  // the name of the local super-administrator
        DC.tool(["group", "addmembers", "Custody Users", "admin"])
        try await Harness.make().run { api in
            let admin = try await api.admin()
            // A user group made by hand with the name of a directory group is not the import's to change.
            #expect(try await api.call(.post, "/user-groups", token: admin, json: ["name": "Custody Helpdesk", "members": ["admin"]]).status == .created)
            #expect(try await api.call(.post, "/directory/import/users", token: admin, json: ["groups": [Self.groups[1]]]).object["ok"] as? Bool == false)
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            #expect(try await api.call(.post, "/directory/import/users", token: admin, json: [String: Any]()).errorCode == "missing_field")
            let r = try await api.call(.post, "/directory/import/users", token: admin,
                json: ["groups": [Self.groups[1], Self.groups[2], Self.groups[1].uppercased()], "bases": ["OU=Contractors,\(DC.baseDN)"]]).object
            #expect(r["ok"] as? Bool == true, "\(r)")
            let created = Set(r["created"] as? [String] ?? [])
            #expect(created == ["dir-nested", "dir-totp", "dir-lock"], "\(r)")
            let skipped = Dictionary(uniqueKeysWithValues: (r["skipped"] as? [[String: String]] ?? []).map { ($0["name"] ?? "", $0["reason"] ?? "") })
            #expect(skipped["dir-disabled"]?.contains("disabled") == true && skipped["dir-contractor"]?.contains("none of the mapped") == true, "\(skipped)")
            #expect(skipped["admin"]?.contains("local user") == true, "\(skipped)")
            #expect(skipped["Custody Helpdesk"]?.contains("left alone") == true, "\(skipped)")
            let groups = r["userGroups"] as? [[String: Any]] ?? []
            #expect(groups.count == 1 && groups.first?["name"] as? String == "Custody Users"
                && Set(groups.first?["members"] as? [String] ?? []) == created, "\(groups)")
            let users = try await api.call(.get, "/users", token: admin).array
            #expect(users.first { $0["username"] as? String == "dir-nested" }?["role"] as? String == "passwordUser")
            #expect(users.first { $0["username"] as? String == "admin" }?["role"] as? String == "administrator", "the local admin is untouched")
            // Again: nothing new; the group keeps its members.
            let again = try await api.call(.post, "/directory/import/users", token: admin, json: ["groups": [Self.groups[1]]]).object
            #expect((again["created"] as? [String])?.isEmpty == true && Set(again["unchanged"] as? [String] ?? []) == created, "\(again)")
            #expect(try await api.call(.get, "/audit?operation=directory_import_users", token: admin).array.count == 2)
            // Disabled in the directory since: skipped, and its sessions end.
            let session = try #require(try await login(api, "dir-lock", "Dir-Pass-1!").object["token"] as? String)
            DC.modify("CN=dir-lock,\(DC.usersDN)", "userAccountControl", "514")
            let third = try await api.call(.post, "/directory/import/users", token: admin, json: ["groups": [Self.groups[1]]]).object
            let reasons = (third["skipped"] as? [[String: String]] ?? []).first { $0["name"] == "dir-lock" }?["reason"] ?? ""
            #expect(reasons.contains("disabled") && reasons.contains("sessions and tokens are ended"), "\(third)")
            #expect(try await api.call(.get, "/auth/me", token: session).status == .unauthorized)
            #expect(try await api.call(.get, "/audit?operation=directory_user_disabled", token: admin).array.count == 1)
            // Disabled in Custody: a sign-in is refused even with the right password, until an import finds it enabled again.
            #expect(try await api.call(.get, "/users", token: admin).array.first { $0["username"] as? String == "dir-lock" }?["disabled"] as? Bool == true)
            DC.modify("CN=dir-lock,\(DC.usersDN)", "userAccountControl", "512")
            #expect(DC.passwordIs("dir-lock", "Dir-Pass-1!"), "enabled in the directory again")
            let refused = try await login(api, "dir-lock", "Dir-Pass-1!")
            #expect(refused.status == .unauthorized, "\(refused.text)")
            let fourth = try await api.call(.post, "/directory/import/users", token: admin, json: ["groups": [Self.groups[1]]]).object
            #expect((fourth["unchanged"] as? [String])?.contains("dir-lock") == true, "\(fourth)")
            #expect(try await login(api, "dir-lock", "Dir-Pass-1!").status == .ok)
            #expect(try await api.call(.get, "/audit?operation=directory_user_enabled", token: admin).array.count == 1)
        }
    }

    /// Computers under an OU become resources (type from operatingSystem), the OU a resource group;
    /// a disabled computer is skipped, a name taken is existing, and a second import adds to the group.
    @Test func importingComputersAsResources() async throws {
        #expect(Self.directory)
        let ou = "OU=Servers,\(DC.baseDN)"
        DC.tool(["ou", "add", ou])
        @Sendable func computer(_ name: String, _ os: String, disabled: Bool = false) {
            let dn = "CN=\(name),\(ou)"
            DC.ldap("ldapdelete", [dn])
            let r = DC.ldap("ldapadd", ldif: """
                dn: \(dn)
                objectClass: computer
                sAMAccountName: \(name.uppercased())$
                dNSHostName: \(name).custody.test
                operatingSystem: \(os)
                userAccountControl: \(disabled ? 4098 : 4096)

                """)
            #expect(r.status == 0, "\(r.out)")
        }
        computer("web01", "Windows Server 2022 Datacenter")
        computer("db01", "Ubuntu 22.04.3 LTS")
        computer("old01", "Windows Server 2008 R2", disabled: true)
        try await Harness.make().run { api in
            let admin = try await api.admin()
            #expect(try await api.call(.put, "/settings/directory", token: admin, json: settings).status == .noContent)
            let pa = try await api.user("dir-pa", role: "passwordAdministrator", adminToken: admin)
            #expect(try await api.call(.post, "/directory/import/resources", token: pa, json: ["base": "OU=Elsewhere,DC=other,DC=test"]).status == .badRequest)
            let r = try await api.call(.post, "/directory/import/resources", token: pa, json: ["base": ou]).object
            #expect(r["ok"] as? Bool == true && Set(r["created"] as? [String] ?? []) == ["web01.custody.test", "db01.custody.test"], "\(r)")
            #expect((r["skipped"] as? [[String: String]])?.first?["name"] == "old01.custody.test", "\(r)")
            let resources = try await api.call(.get, "/resources", token: pa).array
            #expect(resources.first { $0["name"] as? String == "web01.custody.test" }?["type"] as? String == "Windows", "\(resources)")
            #expect(resources.first { $0["name"] as? String == "db01.custody.test" }?["type"] as? String == "Linux")
            let group = try #require((r["groups"] as? [[String: Any]])?.first)
            #expect(group["name"] as? String == "Servers" && (group["members"] as? [String])?.count == 2, "\(group)")
            computer("app01", "Red Hat Enterprise Linux 9")
            let again = try await api.call(.post, "/directory/import/resources", token: pa, json: ["base": ou]).object
            #expect(again["created"] as? [String] == ["app01.custody.test"] && (again["existing"] as? [String])?.count == 2, "\(again)")
            #expect(((again["groups"] as? [[String: Any]])?.first?["members"] as? [String])?.count == 3, "\(again)")
            let user = try await api.user("dir-pu", role: "passwordUser", adminToken: admin)
            #expect(try await api.call(.post, "/directory/import/resources", token: user, json: ["base": ou]).status == .forbidden)
        }
    }
}
