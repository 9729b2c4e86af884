import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What a stolen session cannot do with the caller's own credentials: guess the password through
/// `/auth/password` or `/auth/totp/disable` faster than the sign-in page allows, drop its own second
/// factor without the password, or (as a non-super administrator) revoke a super-administrator's token.
@Suite struct OwnCredentialTests {
    @Test func wrongPasswordsOnTheSessionRoutesCountWithTheSignInFailures() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let token = try await api.user("guessed", role: "passwordUser", adminToken: admin)
            var codes: [String] = []
            for i in 0..<6 {
                let r = try await api.call(.post, "/auth/password", token: token, json: ["currentPassword": "Wrong-Guess-\(i)!", "newPassword": "Whatever-Pass-9!"])
                codes.append(r.errorCode ?? "\(r.status.code)")
            }
            #expect(codes.prefix(5).allSatisfy { $0 == "invalid_credentials" } && codes.last == "too_many_attempts", "\(codes)")
            let disable = try await api.call(.post, "/auth/totp/disable", token: token, json: ["password": API.userPassword + "x"])
            #expect(disable.status == .tooManyRequests, "even the right password waits: \(disable.text)")
            let login = try await api.call(.post, "/auth/login", json: ["username": "guessed", "password": API.userPassword + "x"])
            #expect(login.status == .tooManyRequests, "the sign-in page is locked for the name as well: \(login.text)")
        }
    }

    @Test func anAdministratorCannotDropItsOwnSecondFactorWithoutItsPassword() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let me = try await api.call(.get, "/auth/me", token: admin).object
            let own = try await api.call(.delete, "/users/\(try #require(me["id"] as? String))/totp", token: admin)
            #expect(own.status == .forbidden && own.text.contains("with your password"), "\(own.text)")
        }
    }

    @Test func onlyASuperAdministratorRevokesASuperAdministratorsToken() async throws {
        try await Harness.make().run { api in
            let root = try await api.admin()
            let tid = try #require(try await api.call(.post, "/tokens", token: root, json: ["name": "root-api"]).object["id"] as? String)
            let other = try await api.user("plain-admin", role: "administrator", adminToken: root)
            let refused = try await api.call(.delete, "/tokens/\(tid)", token: other)
            #expect(refused.status == .forbidden, "\(refused.text)")
            let second = try await api.provisioner(root)
            #expect(try await api.call(.delete, "/tokens/\(tid)", token: second).status == .noContent)
        }
    }
}
