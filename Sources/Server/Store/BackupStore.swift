import Foundation

/// What a backup needs of the live store: a consistent copy of the whole database, taken while the
/// server runs, and its record (audit row; on failure, a notice to the super-administrators).
protocol BackupStore: Sendable {
    /// Writes a SQLite database holding every table at one instant into the new file `path`;
    /// `progress` is told the fraction done as it goes.
    func snapshot(into path: String, progress: @escaping @Sendable (Double) -> Void) async throws
    /// Appends `event`; with `failure`, queues that notice to every super-administrator, in one transaction.
    func record(_ event: AuditEvent, failure: NotificationFacts?) async throws
}

/// What a backup's database holds, counted when it is made and checked when it is restored.
struct BackupCounts: Codable, Sendable, Equatable {
    var resources = 0
    var accounts = 0
    var secrets = 0
    var users = 0
    var auditRecords = 0
}

/// The result of checking a restored database: every sealed value opened, the audit chain walked.
struct BackupCheck: Sendable {
    var counts: BackupCounts
    var sealedChecked: Int
    var unreadable: [String]
    var audit: AuditVerifier.Result
    var integrity: String

    var ok: Bool { unreadable.isEmpty && audit.ok && integrity == "ok" }
}
