import Foundation
import Shared

/// The second factor: TOTP secrets sealed in the vault per user. Set up by the user (a secret,
/// then a code from the app turns it on), checked at every login, turned off by the user with
/// their password or reset by an administrator. Every step is audited.
extension IdentityService {
    static func totpIdentity(_ userID: String) -> String { "totp:" + userID }

    /// Whether the user signs in with a code.
    func totpEnabled(_ userID: String) async throws -> Bool { try await store.totp(userID: userID)?.enabled ?? false }

    /// After a right password: nothing without 2FA; else the code must match and be newer than
    /// the last one used (checked and recorded in one compare-and-set, so a code counts once).
    /// A missing code is `otp_required`; a wrong one counts as a failed login.
    func checkSecondFactor(_ user: UserRecord, otp: String?) async throws {
        guard let state = try await store.totp(userID: user.id), state.enabled else { return }
        guard let otp, !otp.isEmpty else {
            throw DomainError(.unauthenticated, "otp_required", "enter the code from your authenticator app (field otp)")
        }
        let secret = try vault.open(state.sealed, identity: Self.totpIdentity(user.id))
        guard let step = TOTP.verify(otp, secret, at: now(), after: state.lastStep), try await store.useTOTPStep(userID: user.id, sealed: state.sealed, step: step) else {
            throw DomainError(.unauthenticated, "invalid_otp", "the one-time code is wrong or was used already")
        }
    }

    /// Starts (or restarts) setting up 2FA: a new secret, not yet required at login.
    func startTOTP(_ p: Principal, ip: String) async throws -> Data {
        let secret = TOTP.newSecret()
        let sealed = try vault.seal(secret, identity: Self.totpIdentity(p.userID))
        try await store.startTOTP(userID: p.userID, sealed: sealed, at: now(),
            audit: AuditEvent(user: p.username, ip: ip, operation: "totp_setup", message: "a new secret, not yet on"))
        return secret
    }

    /// Turns 2FA on once the app shows a right code for the pending secret.
    func confirmTOTP(_ p: Principal, otp: String, ip: String) async throws {
        guard let state = try await store.totp(userID: p.userID) else {
            throw DomainError.invalid("totp_not_started", "start with POST /auth/totp (no otp) to get a secret")
        }
        if state.enabled { throw DomainError.conflict("two-factor sign-in is on already") }
        let secret = try vault.open(state.sealed, identity: Self.totpIdentity(p.userID))
        guard let step = TOTP.verify(otp, secret, at: now(), after: 0) else {
            throw DomainError.invalid("invalid_otp", "the code does not match; check the app's clock and the secret")
        }
        guard try await store.enableTOTP(userID: p.userID, sealed: state.sealed, step: step, audit: AuditEvent(user: p.username, ip: ip, operation: "totp_enabled"))
        else {
            // Changed meanwhile: turned on, reset, or set up again with another secret.
            switch try await store.totp(userID: p.userID) {
            case .some(let now) where now.enabled: throw DomainError.conflict("two-factor sign-in is on already")
            case .some: throw DomainError.conflict("the secret changed while this code was checked; enter a code for the new secret")
            case .none: throw DomainError.invalid("totp_not_started", "start with POST /auth/totp (no otp) to get a secret")
            }
        }
    }

    /// Turns the caller's own 2FA off; their password must be right (a wrong one is audited).
    func disableOwnTOTP(_ p: Principal, password: String, ip: String) async throws {
        guard try await checkPassword(p, password, ip: ip) else {
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "totp_disabled", outcome: "failure", message: "wrong password"))
            throw DomainError(.forbidden, "invalid_credentials", "the password is wrong")
        }
        _ = try await store.deleteTOTP(userID: p.userID, resetBy: nil, check: { _ in },
            audit: AuditEvent(user: p.username, ip: ip, operation: "totp_disabled"))
    }

    /// An administrator resets another user's 2FA (a lost phone). A super-administrator's, or
    /// another administrator's, only a super-administrator may reset; decided again on the user as
    /// stored when the secret is removed.
    func resetTOTP(userID: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .updateUser)
        let check: @Sendable (UserRecord) throws -> Void = { target in
            if target.superAdmin && !p.superAdmin { throw DomainError.forbidden("only a super-administrator can change a super-administrator") }
            if target.role == .administrator && !p.superAdmin && target.id != p.userID {
                throw DomainError.forbidden("only a super-administrator can reset another administrator's second factor")
            }
        }
        guard let target = try await store.user(id: userID) else { throw DomainError.notFound("user") }
        // Your own goes off with your password (POST /auth/totp/disable): a stolen session must not drop it.
        if target.id == p.userID {
            throw DomainError.forbidden("turn your own two-factor sign-in off with your password (POST /auth/totp/disable)")
        }
        try check(target)
        let done = try await store.deleteTOTP(userID: target.id, resetBy: p.userID, check: check,
            audit: AuditEvent(user: p.username, ip: ip, operation: "totp_disabled", message: p.userID == target.id ? nil : "for \(target.username)"))
        guard done else { throw DomainError.notFound("user") }
    }
}
