import Foundation

/// Which audit operations raise a notice as they happen, and when the daily digest goes out.
struct AuditAlertSettings: Codable, Sendable, Equatable, APIBody {
    static let fields = ["operations", "digestAt"]
    /// Operation names (`retrieve_password`, `share_changed`, `create_user`, …); empty: none.
    var operations: [String] = []
    /// `HH:MM` in the server's time zone for a daily digest of the day's operations; nil: no digest.
    var digestAt: String? = nil

    func validate() throws {
        guard operations.count <= 100 else { throw APIError.badRequest("invalid_field", "operations: at most 100") }
        for op in operations where op.range(of: #"^[a-z][a-z_]{0,63}$"#, options: .regularExpression) == nil {
            throw APIError.badRequest("invalid_field", "operations: '\(op.prefix(80))' is not an operation name (lower case and _)")
        }
        // An alert that cannot be sent records notification_failed: alerting on that would feed itself.
        if operations.contains("notification_failed") {
            throw APIError.badRequest("invalid_field", "operations: notification_failed cannot raise an alert (a failed alert would raise another)")
        }
        try Validate.clock(digestAt, field: "digestAt")
    }
}

/// The audit alerts' state: settings, the cursor of records already looked at, the digest's mark.
/// Each method is one transaction.
protocol AuditAlertStore: Sendable {
    func alertSettings() async throws -> AuditAlertSettings
    func saveAlertSettings(_ s: AuditAlertSettings, audit: AuditEvent) async throws
    /// Up to `limit` records after the cursor (a new cursor starts at the newest record: alerts begin
    /// when they are set), the notices `make` raises for them queued, the cursor moved past them.
    /// Returns how many records were looked at.
    func raiseAlerts(limit: Int, make: @Sendable ([AuditEntry], _ superAdmins: [String]) -> [Notice]) async throws -> Int
    /// Operations counted by name since `since`, for the digest.
    func operationCounts(since: Date) async throws -> [String: Int]
    /// When the last digest went out.
    func lastDigest() async throws -> Date?
    /// Queues the digest to the super-administrators and records when it went out, unless another
    /// node sent one since `previous` (then nothing, false).
    func sendDigest(_ facts: NotificationFacts, at: Date, previous: Date?) async throws -> Bool
}
