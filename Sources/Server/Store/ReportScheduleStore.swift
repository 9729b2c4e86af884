import Foundation

/// The scheduled report's settings and its mark of the last sending. Each method is one transaction.
protocol ReportScheduleStore: Sendable {
    func reportSchedule() async throws -> SavedReportSchedule?
    /// Saves (or, with nil, removes) the schedule, with its audit record.
    func saveReportSchedule(_ s: ReportScheduleSettings?, at: Date, audit: AuditEvent) async throws
    /// Queues the mails and records `at` as the last sending, unless another node sent since
    /// `previous` or the schedule was changed or removed since `made` was read (then nothing,
    /// false); the audit record goes with them.
    func sendScheduledReports(_ mails: [OutboxEntry], at: Date, previous: Date?, made: Date, audit: AuditEvent) async throws -> Bool
}
