import Foundation

/// An account whose policy gives its password a maximum age, and when that password was set.
struct PasswordAge: Sendable {
    var resourceId, resource, accountId, account, policy: String
    var changedAt: Date
    var maxAgeDays: Int

    var expiresAt: Date { changedAt.addingTimeInterval(Double(maxAgeDays) * 86400) }
}

/// One account in the expiry report.
struct ExpiryRow: Codable, Sendable {
    var resourceId, resource, accountId, account, policy: String
    var maxAgeDays: Int
    var changedAt, expiresAt: Date
    var expired: Bool
}

/// Passwords past their policy's maximum age, and those that reach it within `withinDays`,
/// soonest first, of the accounts the caller sees.
struct ExpiryReport: Codable, Sendable {
    struct Summary: Codable, Sendable {
        /// Accounts whose policy has a maximum age.
        var withMaxAge: Int
        var expired: Int
        var expiringSoon: Int
    }
    static let defaultWithin = 14
    static let maxWithin = 3650

    var withinDays: Int
    var summary: Summary
    var accounts: [ExpiryRow]

    init(_ ages: [PasswordAge], at now: Date, withinDays: Int) {
        let horizon = now.addingTimeInterval(Double(withinDays) * 86400)
        let rows = ages.filter { $0.expiresAt <= horizon }.sorted { ($0.expiresAt, $0.resource, $0.account) < ($1.expiresAt, $1.resource, $1.account) }
            .map { a in
                ExpiryRow(resourceId: a.resourceId, resource: a.resource, accountId: a.accountId, account: a.account, policy: a.policy,
                    maxAgeDays: a.maxAgeDays, changedAt: a.changedAt, expiresAt: a.expiresAt, expired: a.expiresAt <= now)
            }
        let expired = rows.filter(\.expired).count
        self.withinDays = withinDays
        summary = Summary(withMaxAge: ages.count, expired: expired, expiringSoon: rows.count - expired)
        accounts = rows
    }

    /// The rows as CSV (RFC 4180; a leading formula character neutralised).
    var csv: String {
        var out = ReportCSV(["resource", "account", "policy", "maxAgeDays", "changedAt", "expiresAt", "expired"])
        for r in accounts {
            out.row([r.resource, r.account, r.policy, String(r.maxAgeDays), ReportCSV.stamp(r.changedAt), ReportCSV.stamp(r.expiresAt), String(r.expired)])
        }
        return out.text
    }
}
