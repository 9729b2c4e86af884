import Foundation

/// Per-operation alerts and the daily digest: the audit records are looked at as they come (a
/// cursor kept in the store, so a restart neither repeats nor skips one), and each whose
/// operation an administrator chose raises `audit_alert` through the notification channels, to the
/// super-administrators and, by the event's rule, to the users with access to its account.
struct AuditAlerts: Sendable {
    let store: any AuditAlertStore
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    func settings(by p: Principal) async throws -> AuditAlertSettings {
        try authorizer.check(p, .readAudit)
        return try await store.alertSettings()
    }

    /// Super-administrators only: whoever could switch the alerts off could then act unseen.
    func save(_ s: AuditAlertSettings, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageBackups)
        var s = s
        s.operations = Array(Set(s.operations)).sorted()
        try await store.saveAlertSettings(s, audit: AuditEvent(user: p.username, ip: ip, operation: Self.settingsChanged,
            message: "audit alerts on \(s.operations.isEmpty ? "no operation" : s.operations.joined(separator: ", ")); "
                + (s.digestAt.map { "daily digest at \($0)" } ?? "no digest")))
    }

    /// The operation of a change to these settings: it always alerts, whatever they say after it.
    static let settingsChanged = "save_audit_alerts"
    /// More records of one operation than this in one look are told in one notice.
    static let groupAbove = 3

    /// Looks at every record since the last look; returns how many raised an alert.
    @discardableResult
    func scan() async throws -> Int {
        let chosen = Set(try await store.alertSettings().operations).union([Self.settingsChanged])
        let raised = Counter()
        while true {
            let seen = try await store.raiseAlerts(limit: 500) { rows, supers in
                let hits = rows.filter { chosen.contains($0.operation) }
                raised.add(hits.count)
                return Self.notices(hits, superAdmins: supers)
            }
            if seen < 500 { break }
        }
        return raised.value
    }

    /// One notice a record, or one for each operation that came more than `groupAbove` times.
    /// To the super-administrators: an alert tells who did what, which not every user may read.
    static func notices(_ hits: [AuditEntry], superAdmins: [String]) -> [Notice] {
        Dictionary(grouping: hits, by: \.operation).sorted { $0.key < $1.key }.flatMap { op, records -> [Notice] in
            guard records.count > groupAbove, let first = records.first, let last = records.last else {
                return records.map { notice($0, superAdmins: superAdmins) }
            }
            var f = NotificationFacts(.auditAlert)
            (f.user, f.ip, f.status, f.report) = (Set(records.map(\.user)).sorted().joined(separator: ", "), "-", "\(records.count) records", op)
            f.message = "records \(first.id)...\(last.id): " + records.prefix(20).map { "\($0.id) \($0.user) \($0.outcome)" }.joined(separator: "; ")
            return [Notice(f, users: superAdmins)]
        }
    }

    static func notice(_ e: AuditEntry, superAdmins: [String]) -> Notice {
        var f = NotificationFacts(.auditAlert)
        (f.user, f.ip, f.status, f.report) = (e.user, e.ip, e.outcome, e.operation)
        (f.resource, f.account, f.reason) = (e.resource, e.account, e.reason)
        f.message = "record \(e.id)" + (e.message.map { ": \($0)" } ?? "")
        return Notice(f, users: superAdmins)
    }

    /// The daily digest, once a day at `digestAt`: the day's operations counted by name.
    @discardableResult
    func digestDue(startedAt: Date) async throws -> Bool {
        guard let at = try await store.alertSettings().digestAt else { return false }
        let previous = try await store.lastDigest()
        let last = previous ?? startedAt
        let schedule = RotationSchedule(kind: .days, at: at, everyDays: 1)
        guard let next = schedule.next(after: last, saved: last), next <= now() else { return false }
        // From the last digest on, so a day the server was down is told, not skipped.
        let since = previous ?? now().addingTimeInterval(-86_400)
        let counts = try await store.operationCounts(since: since)
        var f = NotificationFacts(.auditDigest)
        f.report = counts.isEmpty ? "no audit record in the last 24 hours"
            : counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
        f.message = "\(counts.values.reduce(0, +)) audit records since \(Notice.stamp(since))"
        return try await store.sendDigest(f, at: now(), previous: previous)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add(_ k: Int) { lock.withLock { n += k } }
        var value: Int { lock.withLock { n } }
    }
}
