import Foundation
import GRDB
import Shared

/// Login, lockout, sessions, API tokens and the first administrator.
extension Custody {
    static let minUserPasswordLength = 10

    /// Creates `admin` with a random password when there are no users; returns that password.
    /// `persist` runs (e.g. writes the password file) before the user is committed, so a crash
    /// cannot leave an administrator whose password nobody was told.
    func bootstrapAdmin(persist: @Sendable (Secret) throws -> Void = { _ in }) async throws -> Secret? {
        let count = try await store.read { try UserRecord.fetchCount($0) }
        guard count == 0 else { return nil }
        let password = PasswordHashing.randomPassword()
        let hash = try await PasswordHashing.hash(password, cost: config.bcryptCost)
        let user = UserRecord(
            id: newID(), username: "admin", passwordHash: hash, role: .administrator, superAdmin: true,
            email: nil, mustChangePassword: true, createdAt: now())
        try persist(Secret(password))
        try await store.write { db in
            try user.insert(db)
            try AuditLog.append(AuditEvent(user: "system", ip: "local", operation: "bootstrap_admin", message: "created user admin"), in: db)
        }
        return Secret(password)
    }

    struct LoginResult: Sendable { let token: String; let expiresAt: Date; let mustChangePassword: Bool }

    /// Checks the password (with lockout) and opens a session of `kind` (`session` for the API, `web` for the console).
    /// The throttle decides first, in memory: a refused attempt costs no bcrypt and no write.
    func login(username: String, password: Secret, otp: String? = nil, ip: String, kind: TokenRecord.Kind = .session) async throws
        -> LoginResult
    {
        // Failures are keyed by a digest of the name, so a password typed as a user name is not stored.
        let key = Tokens.hash(username.lowercased())
        let ticket: LoginThrottle.Ticket
        do {
            ticket = try loginThrottle.admit(name: key, address: ip, at: now().seconds)
        } catch {
            switch error {
            case .address(let after):
                throw APIError(.tooManyRequests, "too_many_attempts", "too many failed logins from your address; try again in \(after) seconds",
                    retryAfter: after)
            case .name(let after):
                throw APIError(.tooManyRequests, "account_locked", "too many failed logins; try again in \(after) seconds", retryAfter: after)
            }
        }
        var outcome: LoginThrottle.Outcome? = .failed
        defer { if let outcome { loginThrottle.finish(ticket, outcome, at: now().seconds) } }
        let user = try await store.read { db in try UserRecord.filter(Column("username") == username).fetchOne(db) }
        let shownName = user?.username ?? "(unknown user)"
        let ok = try await PasswordHashing.verify(password.reveal(), hash: user?.passwordHash, cost: config.bcryptCost)
        guard let user, ok else {
            outcome = nil
            let locked = loginThrottle.finish(ticket, .failed, at: now().seconds)
            try await recordFailure(ticket, locked: locked, shownName: shownName, ip: ip, message: user == nil ? "no such user" : "invalid credentials")
            throw APIError(.unauthorized, "invalid_credentials", "wrong username or password")
        }
        do {
            try await checkSecondFactor(user, otp: otp, ip: ip)
        } catch let e as APIError where e.code == "otp_required" {
            outcome = .neither
            throw e
        } catch let e as APIError where e.code == "invalid_otp" {
            outcome = nil
            let locked = loginThrottle.finish(ticket, .failed, at: now().seconds)
            try await recordFailure(ticket, locked: locked, shownName: user.username, ip: ip, message: "wrong or reused one-time code")
            throw e
        }
        outcome = .succeeded
        let (token, record) = newSession(userID: user.id, kind: kind)
        try await store.write { db in
            try record.insert(db)
            try db.execute(sql: "DELETE FROM loginFailures WHERE username = ? AND address = ?", arguments: [key, ticket.address])
            try AuditLog.append(AuditEvent(user: user.username, ip: ip, operation: "login", message: kind == .web ? "console" : nil), in: db)
        }
        return LoginResult(token: token, expiresAt: record.expiresAt ?? now(), mustChangePassword: user.mustChangePassword)
    }

    /// A failed attempt: audited, kept for a restart (older rows pruned in the same write), and the
    /// failure that locks the name at this address audited as the lock-out.
    func recordFailure(_ t: LoginThrottle.Ticket, locked: Bool, shownName: String, ip: String, message: String) async throws {
        let at = now().seconds
        let windowStart = at - Double(config.lockoutWindowMinutes) * 60
        try await store.write { db in
            try db.execute(sql: "DELETE FROM loginFailures WHERE at < ?", arguments: [windowStart])
            try db.execute(sql: "INSERT INTO loginFailures(username, address, at) VALUES (?, ?, ?)", arguments: [t.name, t.address, at])
            try AuditLog.append(AuditEvent(user: shownName, ip: ip, operation: "login", outcome: "failure", message: message), in: db)
            if locked {
                try AuditLog.append(AuditEvent(user: shownName, ip: ip, operation: "login", outcome: "locked",
                    message: "locked at \(ip) for \(self.config.lockoutWindowMinutes) minutes after \(self.config.lockoutThreshold) failed logins"), in: db)
            }
        }
    }

    /// A new session token (not yet stored) for `userID`, valid for `sessionHours`.
    func newSession(userID: String, kind: TokenRecord.Kind) -> (String, TokenRecord) {
        let token = Tokens.generate()
        let record = TokenRecord(id: newID(), userId: userID, name: kind == .web ? "console" : "session", kind: kind,
            hash: Tokens.hash(token), createdAt: now(), expiresAt: now().addingTimeInterval(Double(config.sessionHours) * 3600),
            revokedAt: nil, lastUsedAt: kind == .web ? now() : nil)
        return (token, record)
    }

    /// The caller behind a bearer token, or nil when it is unknown, revoked or expired.
    /// `kinds`: the bearer API takes session and API tokens; the console only its own `web` sessions.
    func authenticate(token: String, kinds: Set<TokenRecord.Kind> = [.session, .api]) async throws -> Principal? {
        let hash = Tokens.hash(token)
        let current = now().seconds
        return try await store.read { db -> Principal? in
            guard let t = try TokenRecord.filter(Column("hash") == hash).fetchOne(db), t.revokedAt == nil, kinds.contains(t.kind),
                (t.expiresAt?.seconds ?? .infinity) > current,
                let u = try UserRecord.fetchOne(db, key: t.userId)
            else { return nil }
            return Principal(userID: u.id, username: u.username, role: u.role, superAdmin: u.superAdmin,
                mustChangePassword: u.mustChangePassword, tokenID: t.id)
        }
    }

    func changeOwnPassword(_ p: Principal, current: Secret, new: Secret, ip: String) async throws {
        guard let user = try await store.read({ try UserRecord.fetchOne($0, key: p.userID) }) else { throw APIError.unauthorized }
        guard try await PasswordHashing.verify(current.reveal(), hash: user.passwordHash, cost: config.bcryptCost) else {
            try await audit(AuditEvent(user: p.username, ip: ip, operation: "change_own_password", outcome: "failure",
                message: "current password is wrong"))
            throw APIError(.forbidden, "invalid_credentials", "the current password is wrong")
        }
        try Self.checkUserPassword(new, username: user.username)
        guard new.reveal() != current.reveal() else {
            throw APIError.badRequest("password_reused", "the new password must differ from the current one")
        }
        let hash = try await PasswordHashing.hash(new.reveal(), cost: config.bcryptCost)
        try await store.write { db in
            try db.execute(sql: "UPDATE users SET passwordHash = ?, mustChangePassword = 0 WHERE id = ?", arguments: [hash, p.userID])
            // Other sessions end; this one stays.
            try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE userId = ? AND kind IN ('session', 'web') AND id != ? AND revokedAt IS NULL",
                arguments: [Date().seconds, p.userID, p.tokenID])
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "change_own_password"), in: db)
        }
    }

    static func checkUserPassword(_ password: Secret, username: String) throws {
        let s = password.reveal()
        if s.count < minUserPasswordLength {
            throw APIError.badRequest("weak_password", "the password must be at least \(minUserPasswordLength) characters")
        }
        if s.utf8.count > 72 {
            throw APIError.badRequest("weak_password", "the password must be at most 72 bytes (bcrypt's limit)")
        }
        if s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            throw APIError.badRequest("weak_password", "the password must not contain control characters")
        }
        if s.lowercased().contains(username.lowercased()) {
            throw APIError.badRequest("weak_password", "the password must not contain the username")
        }
    }

    func audit(_ event: AuditEvent) async throws {
        try await store.write { db in try AuditLog.append(event, in: db) }
    }
}
