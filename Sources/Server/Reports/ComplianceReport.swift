import Foundation

/// Accounts that fall short: never rotated, out of sync, breaking their policy (its rules or its
/// maximum age), or shared with more users than `maxShared`.
struct ComplianceReport: Codable, Sendable {
    static let defaultMaxShared = 10
    static let maxMaxShared = 100_000

    enum Finding: String, Codable, Sendable, CaseIterable {
        /// No remote reset of the account has succeeded: its password was only ever set by hand.
        case neverRotated
        case outOfSync
        /// The current password breaks a rule of its policy.
        case policyViolation
        /// Older than its policy's maximum age.
        case expired
        case sharedTooWidely
    }
    struct Summary: Codable, Sendable {
        var accounts, compliant, nonCompliant: Int
        var neverRotated, outOfSync, policyViolation, expired, sharedTooWidely: Int
    }
    struct Tally: Codable, Sendable {
        var name: String
        var accounts, nonCompliant: Int
    }
    struct Row: Codable, Sendable {
        var resourceId, resource, resourceType, owner, accountId, account, policy: String
        var findings: [Finding]
        /// The rules the password breaks, in words (never the password).
        var violations: [String]
        var sharedWith: Int
        var changedAt, lastResetAt: Date?
    }

    var generatedAt: Date
    var maxShared: Int
    var summary: Summary
    /// Non-compliant accounts by resource type, most first.
    var byType: [Tally]
    /// The non-compliant accounts.
    var accounts: [Row]

    init(_ facts: [AccountFacts], at now: Date, maxShared: Int) {
        generatedAt = now
        self.maxShared = maxShared
        var rows: [Row] = []
        var counts: [Finding: Int] = [:]
        var types: [String: (Int, Int)] = [:]
        for f in facts {
            var found: [Finding] = []
            if f.lastResetAt == nil { found.append(.neverRotated) }
            if f.syncStatus == .outOfSync { found.append(.outOfSync) }
            if !f.violations.isEmpty { found.append(.policyViolation) }
            if f.expired(at: now) { found.append(.expired) }
            if f.sharedWith > maxShared { found.append(.sharedTooWidely) }
            for x in found { counts[x, default: 0] += 1 }
            types[f.resourceType, default: (0, 0)].0 += 1
            guard !found.isEmpty else { continue }
            types[f.resourceType, default: (0, 0)].1 += 1
            rows.append(Row(resourceId: f.resourceId, resource: f.resource, resourceType: f.resourceType, owner: f.owner, accountId: f.accountId,
                account: f.account, policy: f.policy, findings: found, violations: f.violations, sharedWith: f.sharedWith,
                changedAt: f.changedAt, lastResetAt: f.lastResetAt))
        }
        accounts = rows
        byType = types.map { Tally(name: $0.key, accounts: $0.value.0, nonCompliant: $0.value.1) }
            .sorted { ($1.nonCompliant, $1.accounts, $0.name) < ($0.nonCompliant, $0.accounts, $1.name) }
        summary = Summary(accounts: facts.count, compliant: facts.count - rows.count, nonCompliant: rows.count,
            neverRotated: counts[.neverRotated] ?? 0, outOfSync: counts[.outOfSync] ?? 0, policyViolation: counts[.policyViolation] ?? 0,
            expired: counts[.expired] ?? 0, sharedTooWidely: counts[.sharedTooWidely] ?? 0)
    }

    var csv: String {
        var out = ReportCSV(["resource", "resourceType", "owner", "account", "policy", "findings", "violations", "sharedWith", "changedAt",
            "lastResetAt"])
        for r in accounts {
            out.row([r.resource, r.resourceType, r.owner, r.account, r.policy, r.findings.map(\.rawValue).joined(separator: " "),
                r.violations.joined(separator: "; "), String(r.sharedWith), ReportCSV.stamp(r.changedAt), ReportCSV.stamp(r.lastResetAt)])
        }
        return out.text
    }
}
