import Foundation
import Logging
import Shared

/// Sign-in and sessions: the first administrator, login with its throttle and second factor,
/// bearer and console sessions, API tokens and a user's own password. It owns the identity
/// store; routes and the console call it, and it throws `DomainError`.
struct IdentityService: Sendable {
    struct Settings: Sendable {
        var bcryptCost = 12
        var sessionHours = 12
        var lockoutThreshold = 5
        var lockoutWindowMinutes = 15
    }

    static let minUserPasswordLength = 10
    /// Recent sign-ins read back for the throttle's trusted addresses, at most.
    static let signInsRestored = 100_000

    let store: any IdentityStore
    /// For refused attempts, audited on their own.
    let audit: any AuditStore
    let vault: Vault
    let throttle: LoginThrottle
    var authorizer = Authorizer()
    let settings: Settings
    let now: @Sendable () -> Date
    let logger: Logger
    /// Tells the other nodes of a failure or sign-in (several nodes; nil on SQLite). Best effort:
    /// a notice lost costs at most the attempts it would have counted.
    var tell: (@Sendable (LoginNotices.Notice.Kind, _ name: String, _ address: String, _ at: Date) async -> Void)? = nil
    /// Signs in a user with no local password through the directory (nil: no directory sign-in).
    var directory: (@Sendable (_ username: String, _ password: Secret, _ ip: String) async -> DirectoryService.SignIn)? = nil

    struct LoginResult: Sendable { let token: String; let expiresAt: Date; let mustChangePassword: Bool }

    /// Creates `admin` with a random password when there are no users; returns that password.
    /// `persist` runs (e.g. writes the password file) before the user is committed, so a crash
    /// cannot leave an administrator whose password nobody was told.
    func bootstrapAdmin(persist: @Sendable (Secret) throws -> Void = { _ in }) async throws -> Secret? {
        guard try await store.userCount() == 0 else { return nil }
        let password = PasswordHashing.randomPassword()
        let hash = try await PasswordHashing.hash(password, cost: settings.bcryptCost)
        let user = UserRecord(id: newID(), username: "admin", passwordHash: hash, role: .administrator, superAdmin: true,
            email: nil, mustChangePassword: true, createdAt: now())
        try persist(Secret(password))
        let added = try await store.addFirstUser(user,
            audit: AuditEvent(user: "system", ip: "local", operation: "bootstrap_admin", message: "created user admin"))
        return added ? Secret(password) : nil
    }

    /// Checks the password (with lockout) and opens a session of `kind` (`session` for the API, `web` for the console).
    /// The throttle decides first, in memory: a refused attempt costs no bcrypt and no write.
    func login(username: String, password: Secret, otp: String? = nil, ip: String, kind: TokenRecord.Kind = .session) async throws
        -> LoginResult
    {
        try await restoreThrottle()
        // Failures are keyed by a digest of the name, so a password typed as a user name is not stored.
        let key = Tokens.hash(username.lowercased())
        let ticket: LoginThrottle.Ticket
        do {
            ticket = try throttle.admit(name: key, address: ip, at: now().seconds)
        } catch {
            switch error {
            case .address(let after):
                throw DomainError(.tooManyAttempts, "too_many_attempts", "too many failed logins from your address; try again in \(after) seconds",
                    retryAfter: after)
            case .name(let after):
                throw DomainError(.tooManyAttempts, "account_locked", "too many failed logins; try again in \(after) seconds", retryAfter: after)
            }
        }
        var outcome: LoginThrottle.Outcome? = .failed
        defer { if let outcome { throttle.finish(ticket, outcome, at: now().seconds) } }
        var user = try await store.user(named: username)
        var shownName = user?.username ?? "(unknown user)"
        var ok = false
        var why = user == nil ? "no such user" : "invalid credentials"
        // A name with no local password is the directory's to decide (when one is configured).
        let result = user == nil || user?.isDirectoryUser == true ? await directory?(username, password, ip) ?? .notConfigured : .notConfigured
        switch result {
        case .user(let u): (user, ok) = (u, true)
        case .refused(let reason, let account):
            why = "directory: \(reason)"
            shownName = account ?? shownName
        case .unavailable(let reason):
            outcome = .neither
            try await audit.append(AuditEvent(user: shownName, ip: ip, operation: "login", outcome: "failure", message: "directory unavailable: \(reason)"))
            throw DomainError(.unavailable, "directory_unavailable", "the directory did not answer; try again later")
        case .notConfigured:
            // A directory user's marker never matches; an unknown name still spends one bcrypt.
            ok = try await PasswordHashing.verify(password.reveal(), hash: user?.isDirectoryUser == true ? nil : user?.passwordHash, cost: settings.bcryptCost)
        }
        guard let user, ok else {
            outcome = nil
            let at = now()
            let locked = throttle.finish(ticket, .failed, at: at.seconds)
            try await recordFailure(ticket, at: at, locked: locked, shownName: shownName, ip: ip, message: why)
            throw DomainError(.unauthenticated, "invalid_credentials", "wrong username or password")
        }
        do {
            try await checkSecondFactor(user, otp: otp)
        } catch let e as DomainError where e.code == "otp_required" {
            outcome = .neither
            throw e
        } catch let e as DomainError where e.code == "invalid_otp" {
            outcome = nil
            let at = now()
            let locked = throttle.finish(ticket, .failed, at: at.seconds)
            try await recordFailure(ticket, at: at, locked: locked, shownName: user.username, ip: ip, message: "wrong or reused one-time code")
            throw e
        }
        outcome = .succeeded
        let (token, record) = newSession(userID: user.id, kind: kind)
        let signedIn = now()
        try await store.openSession(record, clearing: LoginAttempt(name: key, address: ticket.address, at: signedIn),
            audit: AuditEvent(user: user.username, ip: ip, operation: "login", message: kind == .web ? "console" : nil))
        await tell?(.signedIn, key, ticket.address, signedIn)
        return LoginResult(token: token, expiresAt: record.expiresAt ?? now(), mustChangePassword: user.mustChangePassword)
    }

    /// A failed attempt: audited, kept for a restart (older rows pruned in the same write), and the
    /// failure that locks the name at this address audited as the lock-out, then told to the other nodes.
    private func recordFailure(_ t: LoginThrottle.Ticket, at: Date, locked: Bool, shownName: String, ip: String, message: String) async throws {
        var events = [AuditEvent(user: shownName, ip: ip, operation: "login", outcome: "failure", message: message)]
        if locked {
            events.append(AuditEvent(user: shownName, ip: ip, operation: "login", outcome: "locked",
                message: "locked at \(ip) for \(settings.lockoutWindowMinutes) minutes after \(settings.lockoutThreshold) failed logins"))
        }
        try await store.recordFailure(LoginAttempt(name: t.name, address: t.address, at: at),
            pruneBefore: at.addingTimeInterval(-Double(settings.lockoutWindowMinutes) * 60), audit: events)
        await tell?(.failed, t.name, t.address, at)
    }

    /// Before the first login after a start, failures and recent sign-ins are read back, so a
    /// restart neither reopens a lock nor shuts out an address its user signed in from. A read that
    /// fails refuses that login (it could not have read the user either); the next login reads again.
    /// Several nodes: the failures stored while this node heard no notices, merged into the throttle
    /// (read back whole the first time).
    func mergeStoredFailures() async throws {
        guard !throttle.needsRestore else { return try await restoreThrottle() }
        let failures = try await store.failures(since: now().addingTimeInterval(-throttle.limits.window))
        throttle.merge(failures: failures.map { (name: $0.name, address: $0.address, at: $0.at.seconds) })
    }

    func restoreThrottle() async throws {
        guard throttle.needsRestore else { return }
        try await throttle.restoreOnce {
            let failures = try await store.failures(since: now().addingTimeInterval(-throttle.limits.window))
            let signIns = try await store.signIns(since: now().addingTimeInterval(-throttle.limits.trustedFor), limit: Self.signInsRestored)
            return (failures.map { (name: $0.name, address: $0.address, at: $0.at.seconds) },
                signIns.map { (name: Tokens.hash($0.name.lowercased()), address: $0.address, at: $0.at.seconds) })
        }
    }
}
