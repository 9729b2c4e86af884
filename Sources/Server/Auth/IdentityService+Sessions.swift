import Foundation
import Shared

/// Sessions and tokens: who a token belongs to, the console's idle clock, logout, API tokens and
/// a user's own password change.
extension IdentityService {
    /// A new session token (not yet stored) for `userID`, valid for `sessionHours`.
    func newSession(userID: String, kind: TokenRecord.Kind) -> (String, TokenRecord) {
        let token = Tokens.generate()
        let record = TokenRecord(id: newID(), userId: userID, name: kind == .web ? "console" : "session", kind: kind,
            hash: Tokens.hash(token), createdAt: now(), expiresAt: now().addingTimeInterval(Double(settings.sessionHours) * 3600),
            revokedAt: nil, lastUsedAt: kind == .web ? now() : nil)
        return (token, record)
    }

    /// The caller behind a bearer token, or nil when it is unknown, revoked or expired.
    /// `kinds`: the bearer API takes session and API tokens; the console only its own `web` sessions.
    func authenticate(token: String, kinds: Set<TokenRecord.Kind> = [.session, .api]) async throws -> Principal? {
        // A disabled user's token is dead even if it was made in a race with the disable.
        guard let (t, u) = try await store.token(hash: Tokens.hash(token)), t.revokedAt == nil, kinds.contains(t.kind),
            (t.expiresAt?.seconds ?? .infinity) > now().seconds, !u.isDisabled
        else { return nil }
        return Principal(userID: u.id, username: u.username, role: u.role, superAdmin: u.superAdmin,
            mustChangePassword: u.mustChangePassword, tokenID: t.id)
    }

    /// A console session is alive while used within `idleMinutes`; an idle one is ended (audited).
    /// Its last use is written at most once a minute.
    func touchWebSession(_ p: Principal, idleMinutes: Int) async throws -> Bool {
        let at = now()
        guard let t = try await store.token(id: p.tokenID) else { return false }
        let idle = at.timeIntervalSince(t.lastUsedAt ?? t.createdAt)
        if idle > Double(idleMinutes * 60) {
            _ = try await store.revoke(tokenID: p.tokenID, at: at,
                audit: AuditEvent(user: p.username, ip: "web", operation: "logout", message: "console session idle"))
            return false
        }
        if idle >= 60 { try await store.touch(tokenID: p.tokenID, at: at) }
        return true
    }

    /// Ends the session the caller used (audited as a logout), or quietly another one of theirs.
    func logout(_ p: Principal, ip: String) async throws {
        _ = try await store.revoke(tokenID: p.tokenID, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "logout"))
    }

    /// Ends a console session this browser held before signing in again (not audited: the new
    /// sign-in is).
    func endSession(_ p: Principal) async throws { _ = try await store.revoke(tokenID: p.tokenID, at: now(), audit: nil) }

    /// A new console session in place of `p`'s (after a password change a token seen before is worth nothing).
    func renewWebSession(_ p: Principal) async throws -> String {
        let (token, record) = newSession(userID: p.userID, kind: .web)
        try await store.replaceSession(p.tokenID, with: record, at: now())
        return token
    }

    struct NewToken: Sendable { let record: TokenRecord; let token: String }

    /// An API token for the caller, shown once.
    func createToken(_ p: Principal, name: String, expiresAt: Date?, ip: String) async throws -> NewToken {
        try authorizer.check(p, .createToken)
        if let e = expiresAt, e <= now() { throw DomainError.invalid("invalid_field", "field 'expiresAt' must be in the future") }
        // A directory user disabled in the directory must not keep a token for ever: a new token ends
        // within a session's length and no later than the token that asks for it (no chain outlives a sign-in).
        if try await store.user(id: p.userID)?.isDirectoryUser == true {
            var limit = now().addingTimeInterval(Double(settings.sessionHours) * 3600)
            if let current = try await store.token(id: p.tokenID)?.expiresAt { limit = min(limit, current) }
            guard let e = expiresAt, e <= limit else {
                throw DomainError.invalid("directory_user", "a directory user's API token expires within \(settings.sessionHours) hours and "
                    + "no later than the session that makes it (the directory is asked again at the next sign-in): give an earlier expiresAt")
            }
        }
        let token = Tokens.generate()
        let record = TokenRecord(id: newID(), userId: p.userID, name: name, kind: .api, hash: Tokens.hash(token), createdAt: now(),
            expiresAt: expiresAt, revokedAt: nil)
        try await store.addToken(record, audit: AuditEvent(user: p.username, ip: ip, operation: "create_token", message: "token \(record.id) '\(name)'"))
        return NewToken(record: record, token: token)
    }

    func apiTokens(_ p: Principal) async throws -> [TokenRecord] { try await store.apiTokens(userID: p.userID) }

    /// Revokes a token of the caller's (administrators: anyone's); another's is not found.
    func revokeToken(_ id: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .revokeToken)
        guard let owner = try await store.tokenOwner(id: id), owner == p.userID || p.role == .administrator else { throw DomainError.notFound("token") }
        if owner != p.userID, !p.superAdmin, try await store.user(id: owner)?.superAdmin == true {
            throw DomainError.forbidden("only a super-administrator can revoke a super-administrator's token")
        }
        _ = try await store.revoke(tokenID: id, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "revoke_token", message: "token \(id)"))
    }

    /// The caller's own new password: the current one must be right; their other sessions end.
    func changeOwnPassword(_ p: Principal, current: Secret, new: Secret, ip: String) async throws {
        guard let user = try await store.user(id: p.userID) else { throw DomainError.unauthenticated }
        if user.isDirectoryUser { throw DomainError.invalid("directory_user", "you sign in with the directory: change your password there") }
        guard try await checkPassword(p, current.reveal(), ip: ip) else {
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "change_own_password", outcome: "failure",
                message: "current password is wrong"))
            throw DomainError(.forbidden, "invalid_credentials", "the current password is wrong")
        }
        try Self.checkUserPassword(new, username: user.username)
        guard new.reveal() != current.reveal() else {
            throw DomainError.invalid("password_reused", "the new password must differ from the current one")
        }
        let hash = try await PasswordHashing.hash(new.reveal(), cost: settings.bcryptCost)
        try await store.setOwnPassword(userID: p.userID, hash: hash, keeping: p.tokenID, at: now(),
            audit: AuditEvent(user: p.username, ip: ip, operation: "change_own_password"))
    }

    /// Whether `password` is the user's (one bcrypt; an unknown user spends one too).
    /// The caller's own password, checked again (to change it, or to turn the second factor off).
    /// Counted with the sign-in failures of the name and address: a stolen session cannot guess
    /// the password faster than the sign-in page allows.
    func checkPassword(_ p: Principal, _ password: String, ip: String) async throws -> Bool {
        let ticket: LoginThrottle.Ticket
        do {
            ticket = try throttle.admit(name: Tokens.hash(p.username.lowercased()), address: ip, at: now().seconds)
        } catch {
            switch error {
            case .address(let after), .name(let after):
                throw DomainError(.tooManyAttempts, "too_many_attempts", "too many wrong passwords; try again in \(after) seconds", retryAfter: after)
            }
        }
        var ok = false
        defer { _ = throttle.finish(ticket, ok ? .succeeded : .failed, at: now().seconds) }
        let user = try await store.user(id: p.userID)
        ok = try await PasswordHashing.verify(password, hash: user?.isDirectoryUser == true ? nil : user?.passwordHash, cost: settings.bcryptCost)
        return ok
    }

    static func checkUserPassword(_ password: Secret, username: String) throws {
        let s = password.reveal()
        if s.count < minUserPasswordLength {
            throw DomainError.invalid("weak_password", "the password must be at least \(minUserPasswordLength) characters")
        }
        if s.utf8.count > 72 {
            throw DomainError.invalid("weak_password", "the password must be at most 72 bytes (bcrypt's limit)")
        }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw DomainError.invalid("weak_password", "the password must not contain control characters")
        }
        if s.lowercased().contains(username.lowercased()) {
            throw DomainError.invalid("weak_password", "the password must not contain the username")
        }
    }
}
