import Foundation

/// A listener with the names the API shows: its author's, approver's and approving user's, and
/// the resource types it names that do not exist.
struct ListenerFacts: Sendable {
    var record: ListenerRecord
    var author: String
    var approver: String
    var approvedBy: String?
    var unknownTypes: [String]
}

/// What a listener change writes besides the listener: audit records and notices.
struct ListenerEffects: Sendable {
    var audit: [AuditEvent]
    var notices: [Notice] = []
}

/// A queued listener run with what it runs against, read when it starts.
struct ListenerRunFacts: Sendable {
    var listener: ListenerRecord?
    var resource: ResourceRecord?
    var account: AccountRecord?
    var config: ResetConfig?
}

/// Listeners and custom plugins (dual-controlled), and their queued runs. A listener is named by id
/// or name; every change is one transaction with its audit records; a refusal changes nothing.
/// Runs are queued by the change that causes them (`TaskStore.commit`, `PasswordStore.changeLocally`).
protocol ListenerStore: Sendable {
    func listeners() async throws -> [ListenerFacts]
    func listener(_ idOrName: String) async throws -> ListenerFacts?
    /// Adds what `make` builds (given the user `approverRef` names); refused (`conflict`) when the name is taken.
    func create(name: String, approverRef: String, make: @Sendable (UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts
    /// Replaces the listener with `make`'s next revision; refused when the new name is another's, or
    /// when a listener that is a resource type's plugin would be renamed. nil when there is none.
    func update(_ idOrName: String, name: String, approverRef: String, make: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    /// Moves the listener to what `decide` makes of it, given the caller's stored user record.
    func transition(_ idOrName: String, by userID: String, decide: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    /// Deletes the listener and drops its queued runs (`dropped` audits each); refused while it is a
    /// resource type's plugin. False when there is none.
    func delete(_ idOrName: String, dropped: @Sendable (ListenerRecord, ListenerRunRecord) -> AuditEvent,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> Bool
    /// Marks up to `limit` queued runs running, oldest first.
    func claimRuns(limit: Int) async throws -> [ListenerRunRecord]
    /// Ends the runs a stop left running (a listener may not be safe to run twice): `audit` records each.
    func abandonInterrupted(audit: @Sendable (ListenerRunRecord, _ listenerName: String) -> AuditEvent) async throws -> Int
    func runFacts(_ run: ListenerRunRecord) async throws -> ListenerRunFacts
    /// Records a run's result and removes the run.
    func finish(_ run: ListenerRunRecord, audit: AuditEvent) async throws
}
