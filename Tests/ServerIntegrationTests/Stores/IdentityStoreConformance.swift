import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `IdentityStore` must do: the first user only into an empty store, tokens
/// that keep their times to the millisecond and their first revocation, a password change that
/// ends the other sessions and not API tokens, failures pruned by time, sign-ins read from the
/// audit trail, and second-factor steps that count once (compare-and-set).
@Suite struct IdentityStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000.25)

    static func user(_ id: String, _ name: String) -> UserRecord {
        UserRecord(id: id, username: name, passwordHash: "h-" + id, role: .administrator, superAdmin: false, email: nil,
            mustChangePassword: true, createdAt: t0)
    }

    static func token(_ id: String, user: String, kind: TokenRecord.Kind, expires: Date? = nil) -> TokenRecord {
        TokenRecord(id: id, userId: user, name: id, kind: kind, hash: "hash-" + id, createdAt: t0, expiresAt: expires, revokedAt: nil,
            lastUsedAt: kind == .web ? t0 : nil)
    }

    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "ana", ip: "test", operation: op) }

    @Test(arguments: StoreBackend.names("identities"))
    func theFirstUserGoesOnlyIntoAnEmptyStore(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let s = b.identities!
        try #require(try await s.userCount() == 0)
        #expect(try await s.addFirstUser(Self.user("u-admin", "admin"), audit: Self.event("bootstrap_admin")))
        #expect(try await s.addFirstUser(Self.user("u-x", "x"), audit: Self.event("bootstrap_admin")) == false)
        #expect(try await s.user(named: "x") == nil)
        #expect(try await s.user(named: "admin")?.id == "u-admin")
        #expect(try await s.userCount() == 1)
        #expect(try await b.auditOperations().filter { $0 == "bootstrap_admin" }.count == 1, "nothing audited for the refused one")
    }

    @Test(arguments: StoreBackend.names("identities"))
    func tokensKeepTheirTimesAndTheFirstRevocation(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let s = b.identities!
        let expires = Self.t0.addingTimeInterval(3600.5)
        try await s.addToken(Self.token("t-api", user: "u-ana", kind: .api, expires: expires), audit: Self.event("create_token"))
        try await s.openSession(Self.token("t-web", user: "u-ana", kind: .web), clearing: LoginAttempt(name: "k", address: "a", at: Self.t0),
            audit: Self.event("login"))
        let (t, u) = try #require(try await s.token(hash: "hash-t-api"))
        #expect(u.username == "ana" && t.kind == .api && t.userId == "u-ana")
        #expect(abs(t.createdAt.timeIntervalSince(Self.t0)) < 0.001 && abs((t.expiresAt ?? .distantPast).timeIntervalSince(expires)) < 0.001)
        #expect(try await s.apiTokens(userID: "u-ana").map(\.id) == ["t-api"], "sessions are not API tokens")
        #expect(try await s.token(hash: "nope") == nil)

        let first = Self.t0.addingTimeInterval(10)
        #expect(try await s.revoke(tokenID: "t-api", at: first, audit: Self.event("revoke_token")))
        #expect(try await s.revoke(tokenID: "t-api", at: first.addingTimeInterval(50), audit: nil) == false, "revoked already")
        #expect(try await s.revoke(tokenID: "t-none", at: first, audit: Self.event("revoke_token")) == false)
        #expect(abs((try await s.token(id: "t-api")?.revokedAt ?? .distantPast).timeIntervalSince(first)) < 0.001, "the first time stays")

        let used = Self.t0.addingTimeInterval(120)
        try await s.touch(tokenID: "t-web", at: used)
        #expect(abs((try await s.token(id: "t-web")?.lastUsedAt ?? .distantPast).timeIntervalSince(used)) < 0.001)
        #expect(try await b.auditOperations().filter { ["create_token", "login", "revoke_token"].contains($0) }
            == ["create_token", "login", "revoke_token"], "a revocation of no token is not audited")
    }

    @Test(arguments: StoreBackend.names("identities"))
    func aPasswordChangeEndsTheOtherSessionsButNotAPITokens(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let s = b.identities!
        for (id, kind) in [("t-this", TokenRecord.Kind.session), ("t-other", .session), ("t-web", .web), ("t-api", .api)] {
            try await s.addToken(Self.token(id, user: "u-ana", kind: kind), audit: nil)
        }
        try await s.setOwnPassword(userID: "u-ana", hash: "new-hash", keeping: "t-this", at: Self.t0, audit: Self.event("change_own_password"))
        let u = try #require(try await s.user(id: "u-ana"))
        #expect(u.passwordHash == "new-hash" && !u.mustChangePassword)
        #expect(try await s.token(id: "t-this")?.revokedAt == nil)
        #expect(try await s.token(id: "t-api")?.revokedAt == nil)
        #expect(try await s.token(id: "t-other")?.revokedAt != nil)
        #expect(try await s.token(id: "t-web")?.revokedAt != nil)

        let renewed = Self.token("t-web2", user: "u-ana", kind: .web)
        try await s.replaceSession("t-this", with: renewed, at: Self.t0)
        #expect(try await s.token(id: "t-this")?.revokedAt != nil)
        #expect(try await s.token(id: "t-web2")?.revokedAt == nil)
    }

    @Test(arguments: StoreBackend.names("identities"))
    func failuresArePrunedAndASignInClearsItsOwn(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let s = b.identities!
        let t = Self.t0
        try await s.recordFailure(LoginAttempt(name: "k-ana", address: "1.2.3.4", at: t), pruneBefore: t.addingTimeInterval(-900),
            audit: [Self.event("login"), Self.event("login")])
        try await s.recordFailure(LoginAttempt(name: "k-bo", address: "1.2.3.4", at: t.addingTimeInterval(60)),
            pruneBefore: t.addingTimeInterval(-840), audit: [])
        #expect(try await s.failures(since: t.addingTimeInterval(-1)).map(\.name) == ["k-ana", "k-bo"])
        #expect(try await s.failures(since: t.addingTimeInterval(1)).map(\.name) == ["k-bo"])
        try await s.recordFailure(LoginAttempt(name: "k-cy", address: "5.6.7.8", at: t.addingTimeInterval(1000)),
            pruneBefore: t.addingTimeInterval(30), audit: [])
        #expect(try await s.failures(since: .distantPast).map(\.name) == ["k-bo", "k-cy"], "older than the window: pruned")
        try await s.openSession(Self.token("t-s", user: "u-ana", kind: .session), clearing: LoginAttempt(name: "k-bo", address: "1.2.3.4", at: t),
            audit: Self.event("login"))
        #expect(try await s.failures(since: .distantPast).map(\.name) == ["k-cy"])
        #expect(try await b.auditOperations().filter { $0 == "login" }.count == 3)
    }

    @Test(arguments: StoreBackend.names("identities"))
    func signInsComeFromTheAuditTrailNewestFirst(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let s = b.identities!
        try await b.audit.append(AuditEvent(user: "ana", ip: "10.0.0.1", operation: "login"))
        try await b.audit.append(AuditEvent(user: "ana", ip: "10.0.0.1", operation: "login", outcome: "failure"))
        try await Task.sleep(for: .milliseconds(20))
        try await b.audit.append(AuditEvent(user: "bo", ip: "10.0.0.2", operation: "login"))
        try await b.audit.append(AuditEvent(user: "bo", ip: "10.0.0.2", operation: "logout"))
        let all = try await s.signIns(since: Date().addingTimeInterval(-3600), limit: 10).filter { $0.name != "admin" && $0.name != "root" }
        #expect(all.map(\.name) == ["bo", "ana"] && all.map(\.address) == ["10.0.0.2", "10.0.0.1"])
        #expect(try await s.signIns(since: Date().addingTimeInterval(3600), limit: 10).isEmpty)
    }

    @Test(arguments: StoreBackend.names("identities"))
    func aSecondFactorStepCountsOnceAndOnlyWhileEnabled(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let s = b.identities!
        #expect(try await s.totp(userID: "u-ana") == nil)
        try await s.startTOTP(userID: "u-ana", sealed: Data([1, 2]), at: Self.t0, audit: Self.event("totp_setup"))
        let secret = Data([1, 2])
        #expect(try await s.useTOTPStep(userID: "u-ana", sealed: secret, step: 5) == false, "not enabled yet")
        #expect(try await s.enableTOTP(userID: "u-ana", sealed: Data([9]), step: 10, audit: Self.event("totp_enabled")) == false,
            "not the secret that waits (set up again meanwhile)")
        #expect(try await s.enableTOTP(userID: "u-ana", sealed: secret, step: 10, audit: Self.event("totp_enabled")))
        #expect(try await s.enableTOTP(userID: "u-ana", sealed: secret, step: 11, audit: Self.event("totp_enabled")) == false, "enabled already")
        #expect(try await s.totp(userID: "u-ana") == TOTPState(sealed: secret, enabled: true, lastStep: 10))
        #expect(try await s.useTOTPStep(userID: "u-ana", sealed: secret, step: 10) == false, "a step used")
        #expect(try await s.useTOTPStep(userID: "u-ana", sealed: Data([9]), step: 11) == false, "a code of another secret")
        #expect(try await s.useTOTPStep(userID: "u-ana", sealed: secret, step: 11))
        #expect(try await s.useTOTPStep(userID: "u-ana", sealed: secret, step: 11) == false, "the same code twice")
        await #expect { try await s.startTOTP(userID: "u-ana", sealed: Data([3]), at: Self.t0, audit: Self.event("totp_setup")) } throws: {
            ($0 as? DomainError)?.kind == .conflict
        }
        await #expect { _ = try await s.deleteTOTP(userID: "u-ana", resetBy: "u-root", check: { _ in throw DomainError.forbidden("no") },
            audit: Self.event("totp_disabled")) } throws: { $0 is DomainError }
        #expect(try await s.totp(userID: "u-ana") != nil, "a refused reset removes nothing")
        #expect(try await s.deleteTOTP(userID: "u-ana", resetBy: "u-root", check: { u in if u.id != "u-ana" { throw DomainError.forbidden("another user") } }, audit: Self.event("totp_disabled")))
        #expect(try await s.deleteTOTP(userID: "u-none", resetBy: nil, check: { _ in }, audit: Self.event("totp_disabled")) == false)
        #expect(try await s.tokenOwner(id: "t-none") == nil)
        #expect(try await s.totp(userID: "u-ana") == nil)
        #expect(try await s.user(id: "u-ana")?.credentialsResetById == "u-root")
        #expect(try await b.auditOperations().filter { $0.hasPrefix("totp_") } == ["totp_setup", "totp_enabled", "totp_disabled"],
            "a refused enable or setup is not audited")
    }
}
