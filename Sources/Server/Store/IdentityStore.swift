import Foundation

/// A failed login or a sign-in as the throttle counts it: a digest of the name, an address, a time.
struct LoginAttempt: Sendable, Equatable {
    var name: String
    var address: String
    var at: Date
}

/// A user's second factor: the sealed secret, whether sign-in asks for it, and the last step used.
struct TOTPState: Sendable, Equatable {
    var sealed: Data
    var enabled: Bool
    var lastStep: Int64
}

/// Users as sign-in sees them, their sessions and API tokens, failed logins and second factors.
/// Every method is one transaction; an `audit` event is appended inside it.
protocol IdentityStore: Sendable {
    func userCount() async throws -> Int
    func user(id: String) async throws -> UserRecord?
    /// The user of this name (case as stored; names are unique whatever their case).
    func user(named username: String) async throws -> UserRecord?
    /// Adds `user` only while there is no user at all; false (nothing stored) when one exists.
    func addFirstUser(_ user: UserRecord, audit: AuditEvent) async throws -> Bool
    /// The user's own new password: clears `mustChangePassword` and ends their other sessions
    /// (`session` and `web` tokens but `keeping`).
    func setOwnPassword(userID: String, hash: String, keeping tokenID: String, at: Date, audit: AuditEvent) async throws

    func addToken(_ token: TokenRecord, audit: AuditEvent?) async throws
    /// A sign-in: the session stored and the failures of `failures` (name, address) cleared.
    func openSession(_ token: TokenRecord, clearing failures: LoginAttempt, audit: AuditEvent) async throws
    func token(id: String) async throws -> TokenRecord?
    /// The token with this digest and its user, revoked or not.
    func token(hash: String) async throws -> (TokenRecord, UserRecord)?
    /// A user's API tokens, oldest first.
    func apiTokens(userID: String) async throws -> [TokenRecord]
    /// Revokes the token (an earlier revocation stays); false when there is no live token of that id.
    /// The audit event is appended whenever the token exists.
    func revoke(tokenID: String, at: Date, audit: AuditEvent?) async throws -> Bool
    /// Revokes `old` and stores `new` together (a console session renewed after a password change).
    func replaceSession(_ old: String, with new: TokenRecord, at: Date) async throws
    /// The console session's last use.
    func touch(tokenID: String, at: Date) async throws

    /// A failed login, with its audit records; failures before `pruneBefore` are dropped.
    func recordFailure(_ failure: LoginAttempt, pruneBefore: Date, audit: [AuditEvent]) async throws
    /// Failed logins since `since`, oldest first.
    func failures(since: Date) async throws -> [LoginAttempt]
    /// The last successful sign-in of each user name at each address since `since` (names as
    /// signed in, not digested), newest first, at most `limit`.
    func signIns(since: Date, limit: Int) async throws -> [LoginAttempt]

    func totp(userID: String) async throws -> TOTPState?
    /// A new, not yet enabled secret; `DomainError.conflict` while one is enabled.
    func startTOTP(userID: String, sealed: Data, at: Date, audit: AuditEvent) async throws
    /// Enables the started secret `sealed` (the one its first code was checked against) at that
    /// code's step; false unless that secret waits, not enabled.
    func enableTOTP(userID: String, sealed: Data, step: Int64, audit: AuditEvent) async throws -> Bool
    /// Records `step` of secret `sealed` as used: true only while that secret is enabled and the
    /// step is past the last one used (a code counts once).
    func useTOTPStep(userID: String, sealed: Data, step: Int64) async throws -> Bool
    /// Removes the second factor once `check` accepts the user as stored (it throws to refuse);
    /// `resetBy` records an administrator who reset it for another user. False when there is no user.
    func deleteTOTP(userID: String, resetBy: String?, check: @Sendable (UserRecord) throws -> Void, audit: AuditEvent) async throws -> Bool
    /// The owner of a token, read without its times (a token whose times are corrupt can still be revoked).
    func tokenOwner(id: String) async throws -> String?
}
