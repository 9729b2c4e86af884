import Foundation

/// The oldest records of the trail to purge: a prefix, from the first record still kept to the
/// last one older than the cut-off, and the hashes at both ends.
struct AuditPurgePlan: Sendable, Equatable {
    var firstId: Int64
    var lastId: Int64
    var count: Int
    var prevHash: String
    var lastHash: String
}

/// Moving old audit records out of the trail (`custody audit purge`, `auditRetentionDays`), and
/// reading the trail in order for the archive and the export.
protocol AuditPurgeStore: Sendable {
    /// The records from the checkpoint up to (not including) the first one at or after `before`;
    /// nil when there are none. Refused while the checkpoint does not authenticate.
    func purgePlan(before: Date) async throws -> AuditPurgePlan?
    /// The newest record's id (0 for an empty trail).
    func lastId() async throws -> Int64
    /// Whether the checkpoint now names the plan's last record (its purge committed).
    func purged(_ plan: AuditPurgePlan) async throws -> Bool
    /// Up to `limit` records after `after`, oldest first, whoever may see them (archives only).
    func records(after: Int64, limit: Int) async throws -> [AuditEntry]
    /// In one transaction: checks the plan still holds (the last record's hash), deletes its records,
    /// leaves the checkpoint and appends `audit`. Returns the records removed.
    func purge(_ plan: AuditPurgePlan, audit: AuditEvent) async throws -> Int
}
