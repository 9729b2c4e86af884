import Foundation

/// A scheduled report: which reports, when (a rotation-style schedule: once, every N days,
/// monthly, never), and to which users. Each recipient gets the reports of what it may see, as CSV.
struct ReportScheduleSettings: Codable, Sendable, Equatable, APIBody {
    static let fields = ["schedule", "reports", "recipients"]
    static let required = ["schedule", "reports", "recipients"]
    static let maxRecipients = 50

    var schedule: RotationSchedule
    /// `inventory`, `expiry`, `compliance`, `activity`.
    var reports: [String]
    /// Usernames: a report is scoped to its reader, so only users (with an email address) receive one.
    var recipients: [String]

    func validate() throws {
        if let p = schedule.problem() { throw APIError.badRequest("invalid_field", p) }
        if schedule.allowedHours != nil { throw APIError.badRequest("invalid_field", "schedule.allowedHours does not apply to a report") }
        guard !reports.isEmpty, Set(reports).count == reports.count else {
            throw APIError.badRequest("invalid_field", "reports: one or more of \(Self.names), each once")
        }
        for r in reports where ReportService.Name(rawValue: r) == nil {
            throw APIError.badRequest("invalid_field", "reports: '\(r.prefix(40))' is not one of \(Self.names)")
        }
        guard (1...Self.maxRecipients).contains(recipients.count), Set(recipients.map { $0.lowercased() }).count == recipients.count else {
            throw APIError.badRequest("invalid_field", "recipients: 1 to \(Self.maxRecipients) usernames, each once")
        }
        for r in recipients where r.isEmpty || r.count > 200 {
            throw APIError.badRequest("invalid_field", "recipients: a username of 1 to 200 characters")
        }
    }

    static var names: String { ReportService.Name.allCases.map(\.rawValue).joined(separator: ", ") }

    /// The next time the reports go out after the last sending (or the save).
    func next(savedAt: Date, lastSent: Date?) -> Date? {
        schedule.next(after: max(lastSent ?? savedAt, savedAt), saved: savedAt)
    }
}

/// The schedule as stored, with when it was saved and when the reports last went out.
struct SavedReportSchedule: Codable, Sendable, Equatable {
    var settings: ReportScheduleSettings
    var savedAt: Date
    var lastSent: Date?

    /// What `GET /settings/report-schedule` shows.
    struct View: Codable, Sendable {
        /// false: no report is scheduled (the other fields are absent).
        var configured: Bool
        var schedule: RotationSchedule?
        var reports, recipients: [String]?
        var savedAt, lastSent, nextAt: Date?

        static let none = View(configured: false)
    }

    var view: View {
        View(configured: true, schedule: settings.schedule, reports: settings.reports, recipients: settings.recipients, savedAt: savedAt,
            lastSent: lastSent, nextAt: settings.next(savedAt: savedAt, lastSent: lastSent))
    }
}

/// The settings keys, shared by both stores.
enum ReportScheduleKeys {
    static let settings = "reports.schedule"
    static let lastSent = "reports.lastSent"

    struct Stored: Codable { var settings: ReportScheduleSettings; var savedAt: Date }

    static func encode(_ s: ReportScheduleSettings, savedAt: Date) throws -> String {
        String(decoding: try JSONEncoder.api.encode(Stored(settings: s, savedAt: savedAt)), as: UTF8.self)
    }

    static func decode(_ json: String?, lastSent: String?) -> SavedReportSchedule? {
        guard let json, let s = try? JSONDecoder.api.decode(Stored.self, from: Data(json.utf8)) else { return nil }
        return SavedReportSchedule(settings: s.settings, savedAt: s.savedAt, lastSent: lastSent.flatMap(Double.init).map(Date.init(timeIntervalSince1970:)))
    }
}
