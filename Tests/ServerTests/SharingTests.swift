import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct SharingTests {
    @Test func aPasswordUserSeesOnlyWhatIsSharedWithThem() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let pu = try await api.user("pat", role: "passwordUser", adminToken: admin)
            let shared = try await api.resource("shared-host", token: admin)
            let secret = try await api.resource("private-host", token: admin)
            let a1 = try await api.account(shared, "root", password: "Shared-Pass-1", token: admin)
            let a2 = try await api.account(secret, "root", password: "Private-Pass-1", token: admin)
            #expect(try await api.call(.get, "/resources", token: pu).array.isEmpty)
            try await api.call(.put, "/resources/\(shared)/shares", token: admin, json: ["users": [["username": "pat", "permission": "view"]]])
            let list = try await api.call(.get, "/resources", token: pu).array.compactMap { $0["name"] as? String }
            #expect(list == ["shared-host"])
            #expect(try await api.call(.get, "/resources/\(secret)", token: pu).status == .notFound)
            #expect(try await api.call(.get, "/resources/\(secret)/accounts/\(a2)/password", token: pu).status == .notFound)
            #expect(try await api.call(.get, "/resources/\(shared)/accounts/\(a1)/password", token: pu).object["password"] as? String == "Shared-Pass-1")
            // view does not allow a change
            let change = try await api.call(.put, "/resources/\(shared)/accounts/\(a1)/password", token: pu, json: ["resetType": "local"])
            #expect(change.status == .forbidden)
            // a password user cannot create resources
            #expect(try await api.call(.post, "/resources", token: pu, json: ["name": "x", "dnsName": "x", "type": "Linux"]).status == .forbidden)
        }
    }

    @Test func theMostSpecificGrantWinsAndAUserGrantBeatsAGroupGrant() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let pu = try await api.user("una", role: "passwordUser", adminToken: admin)
            let ug = try await api.call(.post, "/user-groups", token: admin, json: ["name": "ops", "members": ["una"]])
            #expect(ug.status == .created)
            let rid = try await api.resource("precedence", token: admin)
            let aid = try await api.account(rid, "svc", password: "Svc-Pass-123", token: admin)
            let g = try await api.call(.post, "/groups", token: admin, json: ["name": "prod", "resourceIds": [rid]])
            let gid = try #require(g.object["id"] as? String)
            let canChange: @Sendable () async throws -> Bool = {
                try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: pu, json: ["resetType": "local"]).status == .ok
            }
            let canView: @Sendable () async throws -> Bool = {
                try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: pu).status == .ok
            }
            // group share through the user group: modify
            try await api.call(.put, "/groups/\(gid)/shares", token: admin, json: ["userGroups": [["name": "ops", "permission": "modify"]]])
            #expect(try await canChange())
            // resource share to the user: view beats the group's modify (more specific level)
            try await api.call(.put, "/resources/\(rid)/shares", token: admin, json: ["users": [["username": "una", "permission": "view"]]])
            #expect(try await canView())
            #expect(try await !canChange())
            // account share to the user group: modify, more specific than the resource share
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/shares", token: admin,
                json: ["userGroups": [["name": "ops", "permission": "modify"]]])
            #expect(try await canChange())
            // at the same level, a grant to the user beats the grant to their group
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/shares", token: admin,
                json: ["users": [["username": "una", "permission": "view"]], "userGroups": [["name": "ops", "permission": "modify"]]])
            #expect(try await canView())
            #expect(try await !canChange())
            // manage cannot be granted on a single account
            let bad = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/shares", token: admin,
                json: ["users": [["username": "una", "permission": "manage"]]])
            #expect(bad.status == .badRequest && bad.errorCode == "invalid_permission")
        }
    }

    @Test func anAuditorReadsAuditButNoPasswordAndAPasswordAdministratorCannotCreateUsers() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let auditor = try await api.user("aud", role: "passwordAuditor", adminToken: admin)
            let pa = try await api.user("padm", role: "passwordAdministrator", adminToken: admin)
            let rid = try await api.resource("audited-host", token: admin)
            let aid = try await api.account(rid, "root", password: "Root-Pass-12", token: admin)
            try await api.call(.put, "/resources/\(rid)/shares", token: admin, json: ["users": [["username": "aud", "permission": "manage"]]])
            #expect(try await api.call(.get, "/audit", token: auditor).status == .ok)
            let pw = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: auditor)
            #expect(pw.status == .forbidden)
            #expect(!pw.text.contains("Root-Pass-12"))
            let u = try await api.call(.post, "/users", token: pa, json: ["username": "nope", "password": "Long-Enough-1", "role": "passwordUser"])
            #expect(u.status == .forbidden)
            let denied = try await api.call(.get, "/audit?accountId=\(aid)", token: admin).array.first { $0["outcome"] as? String == "denied" }
            #expect(denied?["user"] as? String == "aud")
        }
    }

    @Test func ownershipTransfersOnlyToAnAdministratorAndTheOldOwnerLosesAccess() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let pa = try await api.user("owner1", role: "passwordAdministrator", adminToken: admin)
            _ = try await api.user("owner2", role: "administrator", adminToken: admin)
            _ = try await api.user("plain", role: "passwordUser", adminToken: admin)
            let rid = try await api.resource("movable", token: pa)
            let toUser = try await api.call(.post, "/resources/\(rid)/owner", token: pa, json: ["username": "plain"])
            #expect(toUser.status == .badRequest && toUser.errorCode == "invalid_owner")
            #expect(try await api.call(.post, "/resources/\(rid)/owner", token: pa, json: ["username": "owner2"]).status == .noContent)
            #expect(try await api.call(.get, "/resources/\(rid)", token: pa).status == .notFound)
            let r = try await api.call(.get, "/resources/\(rid)", token: admin)
            #expect(r.object["owner"] as? String == "owner2")
        }
    }
}

@Suite struct EscalationTests {
    @Test func aPlainAdministratorCannotTouchASuperAdministratorOrSetItsOwnPasswordByPatch() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let root = try await api.admin()
            let plain = try await api.user("plainadmin", role: "administrator", adminToken: root)
            let users = try await api.call(.get, "/users", token: root).array
            let rootID = try #require(users.first { $0["username"] as? String == "admin" }?["id"] as? String)
            let plainID = try #require(users.first { $0["username"] as? String == "plainadmin" }?["id"] as? String)
            #expect(try await api.call(.patch, "/users/\(rootID)", token: plain, json: ["password": "Taken-Over-12345"]).status == .forbidden)
            #expect(try await api.call(.patch, "/users/\(rootID)", token: plain, json: ["role": "passwordUser"]).status == .forbidden)
            #expect(try await api.call(.delete, "/users/\(rootID)", token: plain).status == .forbidden)
            #expect(try await api.call(.patch, "/users/\(plainID)", token: plain, json: ["password": "Self-Set-Pass-123"]).status == .forbidden)
            #expect(try await api.call(.get, "/auth/me", token: root).status == .ok)
        }
    }

    @Test func nobodyButASuperAdministratorSharesToThemselvesOrJoinsAGroup() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let root = try await api.admin()
            let pa = try await api.user("pa1", role: "passwordAdministrator", adminToken: root)
            let plain = try await api.user("ad1", role: "administrator", adminToken: root)
            let rid = try await api.resource("owned-by-root", token: root)
            // pa1 manages through a user group: a direct grant to themselves would outlive that membership.
            try await api.call(.post, "/user-groups", token: root, json: ["name": "pa-team", "members": ["pa1"]])
            try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["userGroups": [["name": "pa-team", "permission": "manage"]]])
            let selfShare = try await api.call(.put, "/resources/\(rid)/shares", token: pa, json: ["users": [["username": "pa1", "permission": "manage"]],
                "userGroups": [["name": "pa-team", "permission": "manage"]]])
            #expect(selfShare.status == .forbidden)
            let widened = try await api.call(.put, "/resources/\(rid)/shares", token: pa, json: ["userGroups": [["name": "pa-team", "permission": "manage"]],
                "users": [["username": "ad1", "permission": "view"]]])
            #expect(widened.status == .noContent, "a grant held already may be sent back unchanged: \(widened.text)")
            let raised = try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["userGroups": [["name": "pa-team", "permission": "view"]],
                "users": [["username": "pa1", "permission": "manage"]]])
            #expect(raised.status == .noContent)
            let own = try await api.call(.put, "/resources/\(rid)/shares", token: pa, json: ["userGroups": [["name": "pa-team", "permission": "manage"]],
                "users": [["username": "pa1", "permission": "manage"]]])
            #expect(own.status == .forbidden, "the group's grant raised by its member")
            let ug = try await api.call(.post, "/user-groups", token: plain, json: ["name": "mine", "members": ["ad1"]])
            #expect(ug.status == .forbidden)
            #expect(try await api.call(.get, "/user-groups", token: pa).array.compactMap { $0["name"] as? String } == ["pa-team"], "only their own")
        }
    }

    @Test func anAccountLevelViewShareCannotBeWidenedByTheResourceManager() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let root = try await api.admin()
            let pu = try await api.user("pu1", role: "passwordUser", adminToken: root)
            _ = try await api.user("pu2", role: "passwordUser", adminToken: root)
            let rid = try await api.resource("r1", token: root)
            let aid = try await api.account(rid, "svc", password: "Svc-Pass-1234", token: root)
            try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["users": [["username": "pu1", "permission": "manage"]]])
            try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/shares", token: root, json: ["users": [["username": "pu1", "permission": "view"]]])
            let widen = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/shares", token: pu, json: ["users": [["username": "pu2", "permission": "modify"]]])
            #expect(widen.status == .forbidden)
        }
    }

    @Test func concurrentWrongGuessesCannotSlipPastTheLockout() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            _ = try await api.admin()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await api.call(.post, "/auth/login", json: ["username": "admin", "password": "guess-\(UUID())"]).status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 401 }.count <= 5)
            #expect(statuses.filter { $0 == 429 }.count >= 15)
        }
    }

    @Test func unknownRoutesAnswerInTheErrorShape() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let r = try await api.call(.get, "/no-such-thing", token: admin)
            #expect(r.status == .notFound)
            #expect(r.errorCode == "not_found")
        }
    }
}

/// `Access.visibleAccounts` (a few queries per resource) answers as `Access.onAccount` per account.
@Suite struct VisibleAccountsTests {
    @Test func theListAgreesWithTheCheckOfEachAccount() async throws {
        try await Harness.make().run { api in
            let root = try await api.admin()
            _ = try await api.user("va_user", role: "passwordUser", adminToken: root)
            try await api.call(.post, "/user-groups", token: root, json: ["name": "va-team", "members": ["va_user"]])
            let rid = try await api.resource("va-host", token: root)
            var ids: [String] = []
            for name in ["a1", "a2", "a3"] { ids.append(try await api.account(rid, name, password: "Va-Pass-0001!", token: root)) }
            try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/shares", token: root, json: ["users": [["username": "va_user", "permission": "view"]]])
            try await api.call(.put, "/resources/\(rid)/accounts/\(ids[1])/shares", token: root, json: ["userGroups": [["name": "va-team", "permission": "modify"]]])
            let custody = api.harness.custody
            func compare(_ expected: Set<String>) async throws {
                let (listed, checked) = try await custody.store.read { db -> (Set<String>, Set<String>) in
                    let u = try #require(try UserRecord.filter(Column("username") == "va_user").fetchOne(db))
                    let p = Principal(userID: u.id, username: u.username, role: u.role, superAdmin: false, mustChangePassword: false, tokenID: "t")
                    let r = try #require(try ResourceRecord.fetchOne(db, key: rid))
                    let all = try AccountRecord.filter(Column("resourceId") == rid).fetchAll(db)
                    return (Set(try Access.visibleAccounts(of: r, p, db).map(\.loginName)),
                        Set(try all.filter { try Access.onAccount($0, resource: r, p, db) != nil }.map(\.loginName)))
                }
                #expect(listed == checked && listed == expected)
            }
            try await compare(["a1", "a2"])
            try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["userGroups": [["name": "va-team", "permission": "view"]]])
            try await compare(["a1", "a2", "a3"])
            try await api.call(.put, "/resources/\(rid)/shares", token: root, json: [:])
            try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/shares", token: root, json: [:])
            try await compare(["a2"])
        }
    }
}
