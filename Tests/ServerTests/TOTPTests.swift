import Foundation
import GRDB
import HTTPTypes
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Two-factor sign-in: the RFC test vectors, set-up and login through the API with a test clock
/// (codes refused when wrong, reused or missing), turning it off, an administrator's reset, key
/// rotation, and the console's sign-in and set-up pages.
@Suite struct TOTPTests {

    @Test func theRFCTestVectors() {
        let key = Data("12345678901234567890".utf8)
        // RFC 4226 appendix D (HOTP) and RFC 6238 appendix B (SHA-1, 8 digits).
        #expect(TOTP.code(key, step: 0) == "755224" && TOTP.code(key, step: 1) == "287082" && TOTP.code(key, step: 9) == "520489")
        for (time, code) in [(59, "94287082"), (1_111_111_109, "07081804"), (1_234_567_890, "89005924"), (2_000_000_000, "69279037")] {
            #expect(TOTP.code(key, step: TOTP.step(Date(timeIntervalSince1970: Double(time))), digits: 8) == code)
        }
        #expect(Fixtures.base32("MZXW6YTBOI") == Data("foobar".utf8))
        let fresh = TOTP.newSecret()
        #expect(fresh.count == 32 && fresh != TOTP.newSecret() && Fixtures.base32(TOTP.key(fresh)) == fresh, "the shown key is the secret")
        #expect(TOTP.uri(fresh, username: "a b").hasPrefix("otpauth://totp/Custody:a%20b?secret=\(TOTP.key(fresh))&issuer=Custody"))
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        let now = TOTP.code(key, step: TOTP.step(at))
        #expect(TOTP.verify(now, key, at: at, after: 0) == TOTP.step(at))
        #expect(TOTP.verify(now, key, at: at, after: TOTP.step(at)) == nil, "a code is never taken twice")
        #expect(TOTP.verify(TOTP.code(key, step: TOTP.step(at) - 1), key, at: at, after: 0) != nil, "one step of drift")
        #expect(TOTP.verify(TOTP.code(key, step: TOTP.step(at) - 3), key, at: at, after: 0) == nil)
        #expect(TOTP.verify("12a456", key, at: at, after: 0) == nil && TOTP.verify("", key, at: at, after: 0) == nil)
    }

    @Test func setUpSignInTurnOffAndAnAdministratorsReset() async throws {
        let clock = TestClock()
        try await Harness.make(clock: clock).run { api in
            let admin = try await api.admin()
            let token = try await api.user("tf_user", role: "passwordUser", adminToken: admin)
            let password = API.userPassword + "x"
            func login(_ otp: String? = nil) async throws -> Reply {
                var body = ["username": "tf_user", "password": password]
                body["otp"] = otp
                return try await api.call(.post, "/auth/login", json: body)
            }
            let setup = try await api.call(.post, "/auth/totp", token: token, json: [String: String]())
            let secretText = try #require(setup.object["secret"] as? String)
            #expect(setup.object["enabled"] as? Bool == false && (setup.object["uri"] as? String)?.hasPrefix("otpauth://totp/Custody:tf_user?secret=") == true)
            let secret = Fixtures.base32(secretText)
            func code(_ offset: Int64 = 0) -> String { TOTP.code(secret, step: TOTP.step(clock.now) + offset) }
            // Not on until a right code confirms it.
            #expect(try await api.call(.post, "/auth/totp", token: token, json: ["otp": "000000"]).errorCode == "invalid_otp")
            #expect(try await login().status == .ok)
            #expect(try await api.call(.post, "/auth/totp", token: token, json: ["otp": code()]).status == .ok)
            #expect(try await api.call(.get, "/auth/me", token: token).object["totp"] as? Bool == true)
            #expect(try await api.call(.post, "/auth/totp", token: token, json: [String: String]()).status == .conflict, "no second secret while on")
            // Login: missing, wrong, reused, right.
            #expect(try await login().errorCode == "otp_required")
            #expect(try await login("123456").errorCode == "invalid_otp")
            #expect(try await login(code()).errorCode == "invalid_otp", "the code that turned it on is used")
            clock.advance(30)
            #expect(try await login(code()).status == .ok)
            #expect(try await login(code()).errorCode == "invalid_otp", "used once")
            // Wrong codes count towards the lockout like wrong passwords.
            for _ in 0..<6 { _ = try await login("000000") }
            clock.advance(30)
            #expect(try await login(code()).errorCode == "account_locked")
            clock.advance(16 * 60)
            #expect(try await login(code()).status == .ok)
            // The key is resealed by a master-key rotation (checked in the store: this server keeps the old key in memory).
            let custody = api.harness.custody
            let rotated = try KeyRotation(store: custody.store, keyPath: custody.config.resolvedMasterKeyFile).run(current: custody.vault).vault
            let uid = try #require(try await api.call(.get, "/auth/me", token: token).object["id"] as? String)
            let sealed = try await custody.store.read { db in try Data.fetchOne(db, sql: "SELECT sealed FROM totp WHERE userId = ?", arguments: [uid]) }
            #expect(try rotated.open(try #require(sealed), identity: IdentityService.totpIdentity(uid)) == secret)
            #expect(throws: (any Error).self) { try custody.vault.open(sealed!, identity: IdentityService.totpIdentity(uid)) }
            // Off: only with the password.
            #expect(try await api.call(.post, "/auth/totp/disable", token: token, json: ["password": "wrong-Password-1"]).status == .forbidden)
            #expect(try await api.call(.post, "/auth/totp/disable", token: token, json: ["password": password]).status == .noContent)
            #expect(try await login().status == .ok)
            // On again, then reset by an administrator (a lost phone).
            let again = Fixtures.base32(try #require(try await api.call(.post, "/auth/totp", token: token, json: [String: String]()).object["secret"] as? String))
            clock.advance(30)
            #expect(try await api.call(.post, "/auth/totp", token: token, json: ["otp": TOTP.code(again, step: TOTP.step(clock.now))]).status == .ok)
            #expect(try await login().errorCode == "otp_required")
            #expect(try await api.call(.delete, "/users/\(uid)/totp", token: token).status == .forbidden)
            #expect(try await api.call(.delete, "/users/\(uid)/totp", token: admin).status == .noContent)
            #expect(try await login().status == .ok)
            let ops = try await api.call(.get, "/audit?limit=200", token: admin).array.compactMap { $0["operation"] as? String }
            for op in ["totp_setup", "totp_enabled", "totp_disabled"] { #expect(ops.contains(op), "\(op) audited") }
            #expect(!"\(try await api.call(.get, "/audit?limit=200", token: admin).array)".contains(secretText), "the key is never audited")
        }
    }

    @Test func theConsoleSetsItUpAndAsksForTheCodeAtSignIn() async throws {
        let clock = TestClock()
        try await Harness.make(clock: clock).run { api in
            let admin = try await api.admin()
            _ = try await api.user("tf_web", role: "passwordUser", adminToken: admin)
            let password = API.userPassword + "x"
            let b = Browser(api.client)
            _ = try await b.signIn("tf_web", password)
            let page = try await b.go(.get, "/account/totp")
            let csrf = Browser.csrf(page.html)
            #expect(page.html.contains("<strong>Off.</strong>"))
            let setup = try await b.go(.post, "/account/totp/setup", form: ["_csrf": csrf])
            let secretText = try #require(setup.html.range(of: #"id="totp-secret" class="secret">([A-Z2-7]+)<"#, options: .regularExpression)
                .map { String(setup.html[$0].split(separator: ">")[1].dropLast()) })
            #expect(setup.html.contains("otpauth://totp/") && setup.headers[.cacheControl] == "no-store")
            let secret = Fixtures.base32(secretText)
            let wrong = try await b.go(.post, "/account/totp/confirm", form: ["_csrf": csrf, "otp": "000000"])
            #expect(wrong.status == .badRequest && wrong.html.contains("field-error") && wrong.html.contains("Off."))
            let on = try await b.go(.post, "/account/totp/confirm", form: ["_csrf": csrf, "otp": TOTP.code(secret, step: TOTP.step(clock.now))])
            #expect(on.headers[.location] == "/account/totp?notice=enabled2fa")
            // Sign-in now asks for the code, then takes it.
            clock.advance(30)
            let fresh = Browser(api.client)
            let asked = try await fresh.signIn("tf_web", password)
            #expect(asked.status == .unauthorized && asked.html.contains("name=\"otp\"") && fresh.cookies["__Host-custody_session"] == nil)
            let form = try await fresh.go(.get, "/login")
            let done = try await fresh.go(.post, "/login", form: ["_csrf": Browser.csrf(form.html), "username": "tf_web", "password": password,
                "otp": TOTP.code(secret, step: TOTP.step(clock.now))])
            #expect(done.status == .seeOther && done.headers[.location] == "/home" && fresh.cookies["__Host-custody_session"] != nil)
            // Off with the password.
            let state = try await fresh.go(.get, "/account/totp")
            #expect(state.html.contains("<strong>On.</strong>"))
            let refused = try await fresh.go(.post, "/account/totp/disable", form: ["_csrf": Browser.csrf(state.html), "password": "nope-nope-1"])
            #expect(refused.status == .forbidden && refused.html.contains("field-error"))
            _ = try await fresh.go(.post, "/account/totp/disable", form: ["_csrf": Browser.csrf(state.html), "password": password])
            #expect(try await fresh.go(.get, "/account/totp").html.contains("<strong>Off.</strong>"))
        }
    }
}
