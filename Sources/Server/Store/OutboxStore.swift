import Foundation
import Notify

/// A notification's delivery state.
enum OutboxState: String, Sendable, Codable, CaseIterable { case pending, sent, failed }

enum OutboxChannel: String, Sendable, Codable, CaseIterable { case email, syslog }

/// One message to one address (or one syslog message), delivered by `NotificationDelivery`.
struct OutboxEntry: Sendable, Equatable {
    var id: String
    var event: String
    var channel: OutboxChannel
    var recipient: String
    var subject: String
    var body: String
    /// Structured data of a syslog message, as name/value pairs.
    var fields: [[String]]
    /// The accounts it is about: who may see it in `GET /notifications`.
    var accountIds: [String]
    var createdAt: Date
    var state: OutboxState = .pending
    var attempts: Int = 0
    var nextAttemptAt: Date
    var sentAt: Date? = nil
    var lastError: String? = nil
    /// Files mailed with it (a scheduled report's CSV); email only.
    var attachments: [MailAttachment] = []
}

/// The notification outbox. Entries are added in the transaction of the event that raised them
/// (today through the SQLite backend's `insert(_:_:)`; see docs/architecture.md).
protocol OutboxStore: Sendable {
    func add(_ entries: [OutboxEntry]) async throws
    /// Pending entries due at `at`, oldest first.
    func due(at: Date, limit: Int) async throws -> [OutboxEntry]
    func markSent(_ id: String, at: Date) async throws
    /// A failed attempt: `attempts` and the next try; with `giveUp` the entry fails for good and
    /// `giveUp` is audited in the same transaction.
    func markFailed(_ id: String, attempts: Int, next: Date, error: String, giveUp: AuditEvent?) async throws
    /// Newest first, optionally in one state.
    func page(state: OutboxState?, limit: Int, offset: Int) async throws -> [OutboxEntry]
    /// The entries this sender takes now: due ones, held for `hold` seconds from other senders
    /// sharing the store (a sender that dies mid-send leaves them due again after the hold).
    func take(at: Date, limit: Int, hold: TimeInterval) async throws -> [OutboxEntry]
}

/// One sender alone on its store takes what is due.
extension OutboxStore {
    func take(at: Date, limit: Int, hold: TimeInterval) async throws -> [OutboxEntry] { try await due(at: at, limit: limit) }
}
