import Foundation
import GRDB
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct PasswordTests {
    @Test func aLocalChangeIsCheckedAgainstThePolicyAndHistory() async throws {
        let h = try await Harness.make(configure: { $0.passwordHistoryDepth = 3 })
        try await h.run { api in
            let admin = try await api.admin()
            let pol = try await api.call(.post, "/policies", token: admin,
                json: ["name": "Ops", "minLength": 10, "maxLength": 30, "requireDigits": true, "historyDepth": 2])
            #expect(pol.status == .created)
            let rid = try #require(try await api.call(.post, "/resources", token: admin,
                json: ["name": "pol-host", "dnsName": "pol", "type": "Linux", "passwordPolicy": "Ops"]).object["id"] as? String)
            let aid = try await api.account(rid, "svc", password: "First-Pass-1", token: admin)
            let path = "/resources/\(rid)/accounts/\(aid)/password"
            let tooShort = try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "abc1"])
            #expect(tooShort.errorCode == "policy_violation")
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "NoDigitsHere"]).errorCode == "policy_violation")
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "First-Pass-1"]).errorCode == "password_reused")
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "Second-Pass-2"]).status == .ok)
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "First-Pass-1"]).errorCode == "password_reused")
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "Third-Pass-3"]).status == .ok)
            // history depth 2: the first password is free again
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "First-Pass-1"]).status == .ok)
            // generated
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local"]).status == .ok)
            let generated = try #require(try await api.call(.get, path, token: admin).object["password"] as? String)
            #expect(PasswordPolicy(name: "Ops", minLength: 10, maxLength: 30, requireDigits: true).violations(of: Secret(generated)).isEmpty)
            // a remote reset needs a reset configuration first
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "remote"]).errorCode == "reset_not_configured")
            // the vault keeps at most passwordHistoryDepth old versions
            let history = try await h.custody.store.read { db in try h.custody.secrets.historyCount(account: aid, db) }
            #expect(history == 3)
            let audit = try await api.call(.get, "/audit?accountId=\(aid)", token: admin).array
            #expect(audit.filter { $0["operation"] as? String == "change_password" }.count == 4)
        }
    }

    @Test func aGroupPolicyAppliesUnlessTheResourceHasItsOwn() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            try await api.call(.post, "/policies", token: admin, json: ["name": "Long", "minLength": 25, "maxLength": 40])
            let rid = try await api.resource("grouped", token: admin)
            let aid = try await api.account(rid, "svc", password: "x", token: admin)
            try await api.call(.post, "/groups", token: admin, json: ["name": "g", "resourceIds": [rid], "passwordPolicy": "Long"])
            let path = "/resources/\(rid)/accounts/\(aid)/password"
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "Abcdefghijk1!xyz"]).errorCode == "policy_violation")
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["passwordPolicy": "Low"])
            #expect(try await api.call(.put, path, token: admin, json: ["resetType": "local", "newPassword": "Abcdefghijk1!xyz"]).status == .ok)
        }
    }

    @Test func theAdminCanMakeAReasonMandatory() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("reasoned", token: admin)
            let aid = try await api.account(rid, "svc", password: "Svc-Pass-1", token: admin)
            try await api.call(.put, "/settings/passwords", token: admin, json: ["requireReason": true])
            let path = "/resources/\(rid)/accounts/\(aid)/password"
            #expect(try await api.call(.get, path, token: admin).errorCode == "reason_required")
            #expect(try await api.call(.get, path + "?reason=%20", token: admin).errorCode == "reason_required")
            #expect(try await api.call(.get, path + "?reason=incident%2042", token: admin).status == .ok)
        }
    }

    @Test func csvImportCreatesResourcesAndAccountsAndAuditsEachLine() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let csv = #"""
                resourceName,accountName,dnsName,type,password,notes
                web01,root,web01.example.test,Linux,"Pa,ss ""quoted""",first
                web01,oracle,,,Ora-Pass-1,
                db01,postgres,db01,PostgreSQL Server,,generated
                bad/name,root,,,x,
                web02,root,,NoSuchType,x,
                short,line

                """#
            let r = try await api.call(.post, "/import/resources", token: admin, raw: csv, contentType: "text/csv")
            #expect(r.status == .ok)
            #expect(r.object["imported"] as? Int == 3)
            #expect(r.object["failed"] as? Int == 3)
            let resources = try await api.call(.get, "/resources", token: admin).array
            #expect(Set(resources.compactMap { $0["name"] as? String }) == ["web01", "db01"])
            let web = try #require(resources.first { $0["name"] as? String == "web01" }?["id"] as? String)
            let accounts = try await api.call(.get, "/resources/\(web)/accounts", token: admin).array
            let root = try #require(accounts.first { $0["loginName"] as? String == "root" }?["id"] as? String)
            #expect(try await api.call(.get, "/resources/\(web)/accounts/\(root)/password", token: admin).object["password"] as? String == "Pa,ss \"quoted\"")
            let audit = try await api.call(.get, "/audit?limit=100", token: admin).array.filter { $0["operation"] as? String == "import_line" }
            #expect(audit.count == 6)
            #expect(audit.filter { $0["outcome"] as? String == "failure" }.count == 3)
            #expect(!audit.contains { ($0["message"] as? String ?? "").contains("Ora-Pass-1") })
        }
    }
}
