import Foundation

/// A rotation run with each account's outcome, read live from its tasks.
struct RotationRunView: Codable, Sendable {
    struct Account: Codable, Sendable {
        var resourceId, accountId, resource, account, state: String
        var taskId, code, message: String?
    }
    struct Summary: Codable, Sendable { var total, succeeded, failed, skipped, pending: Int }
    var id, trigger, requestedBy, state: String
    /// nil for an integrity run.
    var groupId: String?
    var startedAt: Date
    var summary: Summary
    var accounts: [Account]
}

/// One account in the Password Integrity report.
struct IntegrityRow: Codable, Sendable {
    var resourceId, resource, accountId, account, status: String
    var viaAgent: Bool
    var lastVerifiedAt, lastChangedAt: Date?
    var lastChangedBy: String?
}

/// The Password Integrity report: counts by status, and the rows.
struct IntegrityReport: Codable, Sendable {
    let summary: [String: Int]
    let accounts: [IntegrityRow]

    init(_ rows: [IntegrityRow]) {
        func count(_ s: String) -> Int { rows.filter { $0.status == s }.count }
        summary = ["resetEnabled": rows.count, "viaAgent": rows.filter(\.viaAgent).count, "inSync": count("inSync"),
            "outOfSync": count("outOfSync"), "unreachable": count("unreachable"), "unknown": count("unknown"),
            "neverChecked": count("neverChecked")]
        accounts = rows
    }

    /// The rows as CSV (RFC 4180; a leading formula character neutralised).
    static func csv(_ rows: [IntegrityRow]) -> String {
        var csv = "resource,account,status,viaAgent,lastVerifiedAt,lastChangedAt,lastChangedBy\n"
        let f = ISO8601DateFormatter()
        for r in rows {
            let verified: String = r.lastVerifiedAt.map { f.string(from: $0) } ?? ""
            let changed: String = r.lastChangedAt.map { f.string(from: $0) } ?? ""
            let cells: [String] = [r.resource, r.account, r.status, String(r.viaAgent), verified, changed, r.lastChangedBy ?? ""]
            csv += cells.map(Routes.csvField).joined(separator: ",") + "\n"
        }
        return csv
    }
}
