import Foundation
import Notify

/// The scheduled report: when it is due, each recipient gets the chosen reports of what it may
/// see, as CSV attachments, queued in the outbox with the mark of the sending (so two nodes, or a
/// restart, send it once). Settings by administrators; the change and each sending audited.
struct ReportMailer: Sendable {
    let store: any ReportScheduleStore
    let users: any UserStore
    let reports: ReportService
    let channels: @Sendable () async throws -> NotificationChannels
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    func settings(by p: Principal) async throws -> SavedReportSchedule.View {
        try authorizer.check(p, .manageSettings)
        return try await store.reportSchedule()?.view ?? .none
    }

    /// Saves the schedule; every recipient must be a user with an email address. A schedule without
    /// a time zone takes the server's, by name, so nodes in other zones agree on when it is due.
    func save(_ body: ReportScheduleSettings, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        var s = body
        if s.schedule.timeZone == nil { s.schedule.timeZone = TimeZone.current.identifier }
        if s.schedule.kind == .once, s.next(savedAt: now(), lastSent: nil) == nil {
            throw DomainError.invalid("invalid_field", "schedule.date and at are in the past: a once schedule would never send")
        }
        let known = try await recipients(s.recipients)
        for name in s.recipients {
            guard let u = known[name.lowercased()] else { throw DomainError.invalid("unknown_user", "recipients: no user '\(name.prefix(80))'") }
            guard let mail = u.email, !mail.isEmpty else {
                throw DomainError.invalid("no_email", "recipients: user '\(u.username)' has no email address")
            }
        }
        try await store.saveReportSchedule(s, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "save_report_schedule",
            message: "\(s.reports.joined(separator: ", ")) to \(s.recipients.joined(separator: ", ")); \(s.schedule.kind.rawValue) at \(s.schedule.at)"))
    }

    func remove(by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        try await store.saveReportSchedule(nil, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "save_report_schedule",
            message: "removed"))
    }

    /// Sends the reports when they are due; returns how many mails were queued (nil: not due).
    @discardableResult
    func runDue() async throws -> Int? {
        guard let saved = try await store.reportSchedule(), let next = saved.settings.next(savedAt: saved.savedAt, lastSent: saved.lastSent),
            next <= now()
        else { return nil }
        let at = now()
        // Without a mail server nothing is used up: the reports go once one is set.
        guard try await channels().smtp != nil else { return nil }
        var mails: [OutboxEntry] = []
        var skipped: [String] = []
        var failed: (any Error)? = nil
        let known = try await recipients(saved.settings.recipients)
        for name in saved.settings.recipients {
            guard let u = known[name.lowercased()], !u.isDisabled, let address = u.email, !address.isEmpty else {
                skipped.append("\(name) (no such user, disabled or no email address)")
                continue
            }
            let p = Principal(userID: u.id, username: u.username, role: u.role, superAdmin: u.superAdmin, mustChangePassword: false, tokenID: "")
            do {
                mails.append(try await mail(to: address, for: p, saved.settings.reports, at: at))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // One reader's failure holds back no one else's mail.
                skipped.append("\(name) (\(ResetEngine.describe(error)))")
                failed = error
            }
        }
        // Nothing made because of an error (the store down): the time is not used up; the next tick tries again.
        if mails.isEmpty, let failed { throw failed }
        let message = "\(saved.settings.reports.joined(separator: ", ")) to \(mails.count) recipients"
            + (skipped.isEmpty ? "" : "; not sent to \(skipped.joined(separator: ", "))")
        let sent = try await store.sendScheduledReports(mails, at: at, previous: saved.lastSent, made: saved.savedAt,
            audit: AuditEvent(user: "system", ip: "server", operation: "send_scheduled_report", outcome: mails.isEmpty ? "failure" : "success",
                message: message))
        return sent ? mails.count : nil
    }

    private func recipients(_ names: [String]) async throws -> [String: UserRecord] {
        let wanted = Set(names.map { $0.lowercased() })
        var out: [String: UserRecord] = [:]
        for u in try await users.users() where wanted.contains(u.username.lowercased()) { out[u.username.lowercased()] = u }
        return out
    }

    /// What one mail carries in attachments, at most.
    static let maxAttachedBytes = 5 * 1_048_576

    /// One recipient's mail: the figures in the text, each report's rows attached.
    func mail(to address: String, for p: Principal, _ names: [String], at: Date) async throws -> OutboxEntry {
        let day = String(UTCStamp.format(at.timeIntervalSince1970).prefix(10))
        var lines = ["Custody's scheduled report for \(p.username), of what \(p.username) may see, at \(UTCStamp.format(at.timeIntervalSince1970)).", ""]
        var files: [MailAttachment] = []
        var bytes = 0
        // One read of the accounts serves the inventory and the compliance report.
        let wanted = names.compactMap(ReportService.Name.init(rawValue:))
        let facts = wanted.contains(.inventory) || wanted.contains(.compliance)
            ? try await reports.facts(for: p, rules: wanted.contains(.compliance)) : []
        for name in wanted {
            let (line, csv) = try await figures(name, by: p, facts: facts, at: at)
            guard let csv else {
                lines.append(line)
                continue
            }
            let data = Data(csv.utf8)
            guard bytes + data.count <= Self.maxAttachedBytes else {
                lines.append(line + " The rows (\(data.count / 1024) KiB) are not attached: a mail carries at most "
                    + "\(Self.maxAttachedBytes / 1_048_576) MiB; download them from the console's Reports page.")
                continue
            }
            bytes += data.count
            lines.append(line)
            files.append(MailAttachment(name: "custody-\(name.rawValue)-\(day).csv", contentType: "text/csv; charset=utf-8", data: data))
        }
        lines += ["", files.isEmpty ? "No report could be attached." : "The rows are attached as CSV."]
        return OutboxEntry(id: newID(), event: "scheduled_report", channel: .email, recipient: address,
            subject: "Custody report: \(names.joined(separator: ", ")) (\(day))", body: lines.joined(separator: "\n"), fields: [], accountIds: [],
            createdAt: at, nextAttemptAt: at, attachments: files)
    }

    private func figures(_ name: ReportService.Name, by p: Principal, facts: [AccountFacts], at: Date) async throws -> (String, String?) {
        switch name {
        case .inventory:
            let r = InventoryReport(facts, at: at)
            let s = r.summary
            return ("Inventory: \(s.resources) resources, \(s.accounts) accounts, \(s.resourceTypes) types, \(s.owners) owners.", r.csv)
        case .expiry:
            let r = try await reports.expiry.report(by: p)
            return ("Expiry: \(r.summary.expired) expired, \(r.summary.expiringSoon) expiring within \(r.withinDays) days.", r.csv)
        case .compliance:
            let r = ComplianceReport(facts, at: at, maxShared: ComplianceReport.defaultMaxShared)
            let s = r.summary
            return ("Compliance: \(s.nonCompliant) of \(s.accounts) accounts fall short (never rotated \(s.neverRotated), out of sync "
                + "\(s.outOfSync), breaking their policy \(s.policyViolation), past their maximum age \(s.expired), shared too widely "
                + "\(s.sharedTooWidely)).", r.csv)
        case .activity:
            guard Authorizer.roleAllows(p.role, .readAudit) else { return ("Activity: not sent (your role may not read the audit).", nil) }
            let r = try await reports.activity(by: p)
            let t = r.totals
            return ("Activity, last \(ActivityReport.defaultDays) days: \(t.retrievals) retrievals, \(t.resets) resets, \(t.logins) logins, "
                + "\(t.failedLogins) failed logins, \(t.refused) refusals.", r.csv)
        }
    }
}
