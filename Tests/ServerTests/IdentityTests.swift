import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct IdentityTests {
    @Test func fiveFailuresLockTheLoginForTheWindowAndEachIsAudited() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            for _ in 0..<5 {
                let r = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": "wrong-guess"])
                #expect(r.status == .unauthorized && r.errorCode == "invalid_credentials")
            }
            let locked = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            #expect(locked.status == .tooManyRequests && locked.errorCode == "account_locked")
            let audit = try await api.call(.get, "/audit?limit=20", token: admin).array
            #expect(audit.filter { $0["operation"] as? String == "login" && $0["outcome"] as? String == "failure" }.count == 5)
            #expect(audit.contains { $0["outcome"] as? String == "locked" })
            clock.advance(16 * 60)
            #expect(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).status == .ok)
        }
    }

    @Test func expiredRevokedAndUnknownTokensAreRefused() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let expiring = try await api.call(.post, "/tokens", token: admin,
                json: ["name": "ci", "expiresAt": ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(3600))])
            #expect(expiring.status == .created)
            let token = try #require(expiring.object["token"] as? String)
            let tid = try #require(expiring.object["id"] as? String)
            #expect(try await api.call(.get, "/resources", token: token).status == .ok)
            // the listing never shows the token itself
            #expect(!(try await api.call(.get, "/tokens", token: admin).text.contains(token)))
            // stored only as a digest
            let stored = try await h.custody.store.read { try String.fetchAll($0, sql: "SELECT hash FROM tokens") }
            #expect(!stored.contains(token))
            clock.advance(3601)
            #expect(try await api.call(.get, "/resources", token: token).errorCode == "invalid_token")
            let second = try await api.call(.post, "/tokens", token: admin, json: ["name": "revoke-me"])
            let t2 = try #require(second.object["token"] as? String)
            #expect(try await api.call(.delete, "/tokens/\(try #require(second.object["id"] as? String))", token: admin).status == .noContent)
            #expect(try await api.call(.get, "/resources", token: t2).status == .unauthorized)
            #expect(try await api.call(.get, "/resources", token: "cst_made_up").status == .unauthorized)
            #expect(try await api.call(.get, "/resources").status == .unauthorized)
            _ = tid
        }
    }

    @Test func logoutEndsTheSessionAndPasswordChangeEndsOtherSessions() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let other = try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
                .object["token"] as? String)
            #expect(try await api.call(.post, "/auth/password", token: admin,
                json: ["currentPassword": API.adminPassword, "newPassword": "Another-Long-Pass-9"]).status == .noContent)
            #expect(try await api.call(.get, "/auth/me", token: other).status == .unauthorized)
            #expect(try await api.call(.get, "/auth/me", token: admin).status == .ok)
            #expect(try await api.call(.post, "/auth/logout", token: admin).status == .noContent)
            #expect(try await api.call(.get, "/auth/me", token: admin).status == .unauthorized)
        }
    }

    @Test func userPasswordsAreStoredAsBcrypt() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            _ = try await api.admin()
            let hash = try await h.custody.store.read { try String.fetchOne($0, sql: "SELECT passwordHash FROM users WHERE username = 'admin'") }
            #expect(hash?.hasPrefix("$2") == true)
            #expect(hash?.contains(API.adminPassword) == false)
        }
    }
}
