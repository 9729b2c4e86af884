import Foundation

/// What the reports read: the accounts a caller sees with their facts, and the audit trail
/// counted by user and day.
protocol ReportStore: Sendable {
    /// The accounts `p` sees (ListScope), with what the inventory and compliance reports need;
    /// with `rules`, each current password opened and tested against its policy.
    func accountFacts(visibleTo p: Principal, rules: Bool) async throws -> [AccountFacts]
    /// Counts of the audit records `p` may read (its own and those about what it sees; all for
    /// those who oversee), from `from` up to `to`, by user and UTC day.
    func activity(visibleTo p: Principal, from: Date, to: Date) async throws -> [ActivityCount]
}

/// The audit records of one user on one UTC day, by kind.
struct ActivityCount: Sendable, Equatable {
    var user: String
    /// Days since 1970-01-01 (UTC).
    var day: Int
    var retrievals = 0, resets = 0, logins = 0, failedLogins = 0, refused = 0
}

/// The activity statement, the same on both stores but for how a day is computed.
enum ActivityQuery {
    /// `queue_reset` only for its refusals. A change that took: a local change, a remote reset's commit (by who asked for it: a user,
    /// `rotation`, `expiry`), a candidate a verify confirmed. A lock-out adds a `locked` record to
    /// its failed login, which is not counted twice.
    static let operations = ["retrieve_password", "retrieve_password_history", "change_password", "queue_reset", "login"]

    /// `day` turns `at` (seconds) into whole days; `marks(n)` gives n placeholders.
    static func sql(day: String, scope: ListScope, marks: (Int) -> String) -> (String, [String]) {
        var sql = """
            SELECT "user" AS u, \(day) AS d,
              SUM(CASE WHEN operation IN ('retrieve_password', 'retrieve_password_history') AND outcome = 'success' THEN 1 ELSE 0 END) AS retrievals,
              SUM(CASE WHEN operation = 'change_password' AND outcome = 'success' THEN 1 ELSE 0 END) AS resets,
              SUM(CASE WHEN operation = 'login' AND outcome = 'success' THEN 1 ELSE 0 END) AS logins,
              SUM(CASE WHEN operation = 'login' AND outcome = 'failure' THEN 1 ELSE 0 END) AS failed,
              SUM(CASE WHEN outcome = 'denied' THEN 1 ELSE 0 END) AS refused
            FROM audit WHERE at >= ? AND at < ? AND operation IN (\(operations.map { "'\($0)'" }.joined(separator: ", ")))
            """
        var args: [String] = []
        if !scope.everything {
            let whole = scope.resources.isEmpty ? [""] : Array(scope.resources)
            let accounts = scope.accounts.isEmpty ? [""] : Array(scope.accounts)
            sql += " AND (\"user\" = ? OR (accountId IS NULL AND resourceId IN (\(marks(whole.count)))) OR accountId IN (\(marks(accounts.count))))"
            args = [scope.username] + whole + accounts
        }
        sql += " GROUP BY u, d ORDER BY d, u"
        return (sql, args)
    }
}
