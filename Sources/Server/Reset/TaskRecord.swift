import Foundation
import GRDB

/// A persisted reset or verify task. `phase` records how far a reset got, so a restart knows
/// whether the target may have been touched.
struct TaskRecord: Codable, FetchableRecord, PersistableRecord, Sendable, EpochDates {
    static let databaseTableName = "tasks"
    enum Kind: String, Codable, Sendable, CaseIterable { case reset, verify }
    enum State: String, Codable, Sendable, CaseIterable { case queued, running, succeeded, failed, unknown, cancelled }
    /// queued: nothing touched. changing: pending secret written, the change may be under way.
    /// verifying: the target said yes, checking on a fresh connection. reconcile: outcome unknown.
    enum Phase: String, Codable, Sendable, CaseIterable { case queued, changing, verifying, reconcile, done }

    var id: String
    var kind: Kind
    var state: State
    var phase: Phase
    var via: String
    var resourceId: String
    var accountId: String
    var host: String
    var requestedBy: String
    var requestedById: String?
    var newPasswordGiven: Bool
    var pendingSecretId: String?
    var attempts: Int
    var resultCode: String?
    var resultMessage: String?
    var reason: String?
    var ticketId: String?
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var notBefore: Double
    /// A rotation's allowed-hours window closes here: a task not started by then is cancelled.
    var notAfter: Double? = nil
    var rotationRunId: String? = nil
    var integrityRunId: String? = nil
    /// Reconciles that could not tell which password works (back-off, then the slow pace).
    var reconcileAttempts: Int = 0

    var isFinished: Bool { state == .succeeded || state == .failed || state == .cancelled }

    /// Ends the task in `state` with its result (the caller saves it).
    mutating func end(_ state: State, code: String, message: String, at: Date) {
        self.state = state
        phase = .done
        resultCode = code
        resultMessage = message
        finishedAt = at
    }
}

/// The task as the API shows it: never a secret.
struct TaskView: Codable, Sendable {
    struct Result: Codable, Sendable { let code: String; let message: String }
    let id, kind, state, via, resourceId, accountId: String
    /// Where a running reset is: queued, changing, verifying, reconcile or done.
    let phase: String
    let result: Result?
    let createdAt: Date
    let startedAt, finishedAt: Date?

    init(_ t: TaskRecord) {
        id = t.id; kind = t.kind.rawValue; state = t.state.rawValue; phase = t.phase.rawValue; via = t.via; resourceId = t.resourceId; accountId = t.accountId
        result = t.resultCode.map { Result(code: $0, message: t.resultMessage ?? "") }
        createdAt = t.createdAt; startedAt = t.startedAt; finishedAt = t.finishedAt
    }
}
