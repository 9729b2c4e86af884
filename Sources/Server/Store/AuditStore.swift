import Foundation

/// The audit trail, append-only and hash-chained. A change's record is appended by the store
/// method that makes the change, in its transaction; this appends records that stand alone and
/// reads them back.
protocol AuditStore: Sendable {
    /// Appends a record that changes nothing else (a refused import line, a test send).
    func append(_ event: AuditEvent) async throws
    /// Records matching `query`, newest first, limited to what `p` may see (`ListScope`).
    func entries(_ query: AuditLog.Query, visibleTo p: Principal) async throws -> [AuditEntry]
}
