import Foundation
import Shared

/// An account's current password and, while a reset is unresolved, the candidates it may have
/// left on the target.
struct Retrieved: Sendable {
    /// nil: no password is known yet, but a reset left candidates.
    let current: Secret?
    let candidates: [SecretStore.Candidate]
}

/// What a retrieval found.
enum Retrieval: Sendable {
    case notVisible
    case noPassword
    case found(Retrieved)
}

/// What a local change is decided on: the account, its policy, and the passwords the policy's
/// history forbids (the current one first).
struct LocalChangeFacts: Sendable {
    var resource: ResourceRecord
    var account: AccountRecord
    var policy: PasswordPolicy
    var recent: [Secret]
}

/// Reading and changing the passwords in the vault (a remote change is the `TaskStore`'s). Every
/// method is one transaction with its audit record; a refusal changes nothing and audits nothing.
protocol PasswordStore: Sendable {
    /// The current password and candidates, audited; `gate` decides on the account's access-control
    /// facts (read in the same transaction; what it returns, the checkout held, goes to `audit`),
    /// `check` is told whether a reason is required.
    func retrieve(_ accountID: String, of resourceID: String, visibleTo p: Principal,
        gate: (@Sendable (AccessGateFacts) throws -> AccessRequestRecord?)?, authorize: @escaping @Sendable (Permission) throws -> Void,
        check: @escaping @Sendable (_ reasonRequired: Bool) throws -> Void,
        audit: @escaping @Sendable (ResourceRecord, AccountRecord, _ candidates: Int, _ held: AccessRequestRecord?) -> AuditEvent) async throws -> Retrieval
    /// Replaces the current password with what `decide` chooses (history kept to the policy's depth),
    /// queues the listeners, raises the notice; refused (`DomainError.conflict`, `reset_in_progress`)
    /// while a reset of the account is under way. False when the caller cannot see the account.
    func changeLocally(_ accountID: String, of resourceID: String, visibleTo p: Principal, at: Date,
        authorize: @Sendable (Permission) throws -> Void, decide: @Sendable (LocalChangeFacts) throws -> Secret, listenerTrigger: String,
        audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent, notice: @Sendable (ResourceRecord, AccountRecord) -> Notice)
        async throws -> Bool
    /// The current password and its history, newest first; nil when the caller cannot see the
    /// account. With `reveal`, each version's password is opened and `reveal`'s record appended
    /// in the same transaction.
    func history(_ accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        reveal: (@Sendable (ResourceRecord, AccountRecord, _ versions: Int) -> AuditEvent)?) async throws -> [PasswordVersion]?
    /// The policy that governs the account; nil when the caller cannot see it.
    func policy(ofAccount accountID: String, of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void)
        async throws -> (AccountRecord, PasswordPolicy)?
}
