import Foundation

/// The canned reports, each over what its caller may see (`ListScope`). The activity report
/// reads the audit trail, so it takes the right to read it.
struct ReportService: Sendable {
    enum Name: String, CaseIterable, Sendable { case inventory, expiry, compliance, activity }

    let store: any ReportStore
    let expiry: ExpiryCheck
    let authorizer: Authorizer
    let now: @Sendable () -> Date
    /// Reports reading the whole vault, two at a time on a node.
    var gate = ReportGate(limit: 2)

    func inventory(by p: Principal) async throws -> InventoryReport {
        InventoryReport(try await facts(for: p, rules: false), at: now())
    }

    /// The accounts `p` sees. Which rules a password breaks says a little about it: only those who
    /// may retrieve passwords read them, and not for an account under access control (whose
    /// password takes a request); anyone else reads that it breaks its policy.
    func facts(for p: Principal, rules: Bool) async throws -> [AccountFacts] {
        var facts = try await gate.run { try await store.accountFacts(visibleTo: p, rules: rules) }
        let retrieves = Authorizer.roleAllows(p.role, .retrievePassword)
        for i in facts.indices where !facts[i].violations.isEmpty && (!retrieves || facts[i].accessControlled) {
            facts[i].violations = ["breaks its policy"]
        }
        return facts
    }

    func compliance(by p: Principal, maxShared: Int = ComplianceReport.defaultMaxShared) async throws -> ComplianceReport {
        guard (0...ComplianceReport.maxMaxShared).contains(maxShared) else {
            throw DomainError.invalid("invalid_parameter", "maxShared must be 0...\(ComplianceReport.maxMaxShared) users")
        }
        return ComplianceReport(try await facts(for: p, rules: true), at: now(), maxShared: maxShared)
    }

    /// `from` and `to` are UTC days, both included; by default the 30 days up to today.
    func activity(by p: Principal, from: Date? = nil, to: Date? = nil) async throws -> ActivityReport {
        try authorizer.check(p, .readAudit)
        let (start, end) = try Self.range(from: from, to: to, today: now())
        return ActivityReport(try await store.activity(visibleTo: p, from: start, to: end), from: start, to: end)
    }

    /// What the reports page shows: one read of the accounts for inventory and compliance, the
    /// expiry report, and the activity of the last 30 days to those who may read the audit.
    struct Overview: Sendable {
        var inventory: InventoryReport
        var compliance: ComplianceReport
        var expiry: ExpiryReport
        var activity: ActivityReport?
    }

    func overview(by p: Principal) async throws -> Overview {
        let facts = try await facts(for: p, rules: true)
        let at = now()
        let activity = Authorizer.roleAllows(p.role, .readAudit) ? try await activity(by: p) : nil
        // Expiry from the same facts: no second read of every account.
        let ages = facts.compactMap { f -> PasswordAge? in
            guard let days = f.maxAgeDays, days > 0, let changed = f.changedAt else { return nil }
            return PasswordAge(resourceId: f.resourceId, resource: f.resource, accountId: f.accountId, account: f.account, policy: f.policy,
                changedAt: changed, maxAgeDays: days)
        }
        return Overview(inventory: InventoryReport(facts, at: at),
            compliance: ComplianceReport(facts, at: at, maxShared: ComplianceReport.defaultMaxShared),
            expiry: ExpiryReport(ages, at: at, withinDays: ExpiryReport.defaultWithin), activity: activity)
    }

    /// A report's rows as CSV, with its defaults.
    func csv(_ name: Name, by p: Principal) async throws -> String {
        switch name {
        case .inventory: try await inventory(by: p).csv
        case .expiry: try await expiry.report(by: p).csv
        case .compliance: try await compliance(by: p).csv
        case .activity: try await activity(by: p).csv
        }
    }

    /// The start of `from`'s day and the end of `to`'s day.
    static func range(from: Date?, to: Date?, today: Date) throws -> (Date, Date) {
        func dayStart(_ d: Date) -> Date { Date(timeIntervalSince1970: (d.timeIntervalSince1970 / 86400).rounded(.down) * 86400) }
        let end = dayStart(to ?? today).addingTimeInterval(86400)
        let start = from.map(dayStart) ?? end.addingTimeInterval(-Double(ActivityReport.defaultDays) * 86400)
        guard start < end else { throw DomainError.invalid("invalid_parameter", "from must not be after to") }
        guard end.timeIntervalSince(start) <= Double(ActivityReport.maxDays) * 86400 else {
            throw DomainError.invalid("invalid_parameter", "a range of at most \(ActivityReport.maxDays) days")
        }
        return (start, end)
    }
}
