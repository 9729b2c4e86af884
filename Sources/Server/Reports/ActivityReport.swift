import Foundation

/// Retrievals, resets and logins by user and UTC day, from the audit trail the caller may read.
struct ActivityReport: Codable, Sendable {
    static let defaultDays = 30
    static let maxDays = 366

    struct Counts: Codable, Sendable, Equatable {
        var retrievals = 0, resets = 0, logins = 0, failedLogins = 0, refused = 0

        mutating func add(_ c: ActivityCount) {
            retrievals += c.retrievals
            resets += c.resets
            logins += c.logins
            failedLogins += c.failedLogins
            refused += c.refused
        }
        var total: Int { retrievals + resets + logins + failedLogins + refused }
    }
    struct Row: Codable, Sendable {
        var user: String
        /// YYYY-MM-DD, UTC.
        var day: String
        var retrievals, resets, logins, failedLogins, refused: Int
    }
    struct UserTotal: Codable, Sendable {
        var user: String
        var counts: Counts
    }
    struct DayTotal: Codable, Sendable {
        var day: String
        var counts: Counts
    }

    var from, to: Date
    var totals: Counts
    /// Busiest first.
    var byUser: [UserTotal]
    /// Every day of the range, oldest first, empty days included.
    var byDay: [DayTotal]
    var rows: [Row]

    init(_ counts: [ActivityCount], from: Date, to: Date) {
        self.from = from
        self.to = to
        var totals = Counts()
        var users: [String: Counts] = [:]
        var days: [Int: Counts] = [:]
        for c in counts {
            totals.add(c)
            users[c.user, default: Counts()].add(c)
            days[c.day, default: Counts()].add(c)
        }
        self.totals = totals
        byUser = users.map { UserTotal(user: $0.key, counts: $0.value) }.sorted { ($1.counts.total, $0.user) < ($0.counts.total, $1.user) }
        let first = Int((from.timeIntervalSince1970 / 86400).rounded(.down))
        let last = Int((to.addingTimeInterval(-1).timeIntervalSince1970 / 86400).rounded(.down))
        byDay = first <= last ? (first...last).map { DayTotal(day: Self.day($0), counts: days[$0] ?? Counts()) } : []
        rows = counts.map {
            Row(user: $0.user, day: Self.day($0.day), retrievals: $0.retrievals, resets: $0.resets, logins: $0.logins,
                failedLogins: $0.failedLogins, refused: $0.refused)
        }
    }

    static func day(_ n: Int) -> String { String(UTCStamp.format(Double(n) * 86400).prefix(10)) }

    var csv: String {
        var out = ReportCSV(["day", "user", "retrievals", "resets", "logins", "failedLogins", "refused"])
        for r in rows {
            out.row([r.day, r.user, String(r.retrievals), String(r.resets), String(r.logins), String(r.failedLogins), String(r.refused)])
        }
        return out.text
    }
}
