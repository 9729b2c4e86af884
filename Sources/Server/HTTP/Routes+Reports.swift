import Foundation
import Hummingbird

extension Routes {
    func reports(_ t: RouteTable) {
        let format = QueryParam("format", .choice(["json", "csv"]), "csv: the rows as text/csv")
        t.add(.get, "/reports/inventory", "What the vault holds that you can see: resources, accounts, types and owners, with each account's "
            + "policy, sync state, last change, last reset and how many users a share reaches (?format=csv)", response: .report(InventoryReport.self),
            query: [format]) { req, ctx in
            let report = try await custody.reports.inventory(by: try ctx.caller())
            return try Self.report(req, report, csv: report.csv)
        }
        t.add(.get, "/reports/expiry", "Passwords past their policy's maximum age and those reaching it within ?within= days (default "
            + "\(ExpiryReport.defaultWithin)), soonest first, of the accounts you can see (?format=csv)", response: .report(ExpiryReport.self),
            query: [QueryParam("within", .integer(0...ExpiryReport.maxWithin), "days ahead (default \(ExpiryReport.defaultWithin))"), format])
        { req, ctx in
            let within = try ListParameters(req).integer("within", 0...ExpiryReport.maxWithin, unit: "days") ?? ExpiryReport.defaultWithin
            let report = try await custody.expiry.report(by: try ctx.caller(), withinDays: within)
            return try Self.report(req, report, csv: report.csv)
        }
        t.add(.get, "/reports/compliance", "The accounts you can see that fall short: never rotated, out of sync, breaking their policy's rules "
            + "or maximum age, or shared with more than ?maxShared= users (default \(ComplianceReport.defaultMaxShared)); by resource type "
            + "(?format=csv)", response: .report(ComplianceReport.self),
            query: [QueryParam("maxShared", .integer(0...ComplianceReport.maxMaxShared), "users a share may reach before it is too wide"), format])
        { req, ctx in
            let most = try ListParameters(req).integer("maxShared", 0...ComplianceReport.maxMaxShared, unit: "users")
                ?? ComplianceReport.defaultMaxShared
            let report = try await custody.reports.compliance(by: try ctx.caller(), maxShared: most)
            return try Self.report(req, report, csv: report.csv)
        }
        t.add(.get, "/reports/activity", "Retrievals, resets, logins, failed logins and refusals by user and UTC day, from the audit records you "
            + "may read, ?from= to ?to= (days, both included; default the last \(ActivityReport.defaultDays) days, at most "
            + "\(ActivityReport.maxDays)) (?format=csv)", response: .report(ActivityReport.self),
            query: [QueryParam("from", .date, "first day (UTC)"), QueryParam("to", .date, "last day (UTC), default today"), format])
        { req, ctx in
            let q = ListParameters(req)
            let report = try await custody.reports.activity(by: try ctx.caller(), from: try q.day("from"), to: try q.day("to"))
            return try Self.report(req, report, csv: report.csv)
        }
    }

    func reportSchedule(_ t: RouteTable) {
        t.add(.get, "/settings/report-schedule", "The scheduled report: which reports, when, to whom, when it last went out and goes next "
            + "(administrators)", response: .object(SavedReportSchedule.View.self)) { _, ctx in
            try Reply.json(try await custody.reportMailer.settings(by: try ctx.caller()))
        }
        t.add(.put, "/settings/report-schedule", "Mail reports on a schedule (kind once|days|monthly|never, at HH:MM, timeZone) to users: each "
            + "gets the reports of what it may see as CSV attachments (administrators; audited)", body: ReportScheduleSettings.self,
            response: .empty) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(ReportScheduleSettings.self, limit: custody.config.maxBodyBytes)
            try await custody.reportMailer.save(b, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/settings/report-schedule", "Stop the scheduled report (administrators; audited)", response: .empty) { _, ctx in
            try await custody.reportMailer.remove(by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }

    /// The report as JSON, or its rows as CSV with `?format=csv`.
    static func report(_ req: Request, _ report: some Encodable & Sendable, csv: @autoclosure () -> String) throws -> Response {
        guard try ListParameters(req).word("format", ["json", "csv"]) == "csv" else { return try Reply.json(report) }
        var response = Response(status: .ok, body: .init(byteBuffer: .init(string: csv())))
        response.headers[.contentType] = "text/csv; charset=utf-8"
        return response
    }
}
