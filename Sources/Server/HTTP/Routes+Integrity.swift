import Foundation
import HTTPTypes
import Hummingbird

struct IntegritySettingsBody: APIBody {
    static let fields = ["dailyAt", "timeZone"]
    var dailyAt: String?
    var timeZone: String?
    func validate() throws {
        try Validate.clock(dailyAt, field: "dailyAt")
        if let tz = timeZone, TimeZone(identifier: tz) == nil { throw APIError.badRequest("invalid_field", "timeZone '\(tz)' is not an IANA time zone") }
    }
}

extension Routes {
    /// One RFC 4180 field; a leading formula character is neutralised for spreadsheets.
    static func csvField(_ value: String) -> String {
        var v = value
        if let first = v.utf8.first, [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 9, 13].contains(first) { v = "'" + v }
        // Bytes, not characters: "\r\n" is one Character, and the export writes millions of fields.
        // Quoted also with ; and tab: a spreadsheet set to either separator keeps the cell whole.
        return v.utf8.contains(where: { $0 == 44 || $0 == 34 || $0 == 10 || $0 == 13 || $0 == 59 || $0 == 9 })
            ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
    }

    func integrity(_ t: RouteTable) {
        t.add(.get, "/settings/integrity", "When the nightly integrity check runs", response: .object([String: String].self)) { _, ctx in
            _ = try ctx.caller()
            let (dailyAt, timeZone) = try await custody.integrity.schedule()
            return try Reply.json(["dailyAt": dailyAt, "timeZone": timeZone])
        }
        t.add(.put, "/settings/integrity", "Change when the nightly integrity check runs (administrators)", body: IntegritySettingsBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(IntegritySettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.integrity.saveSchedule(dailyAt: b.dailyAt, timeZone: b.timeZone, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/integrity/run", "Run the integrity check now (administrators); 202 {runId}", response: .object([String: String].self)) { _, ctx in
            let run = try await custody.integrity.runNow(by: try ctx.caller())
            return try Reply.json(["runId": run.id], status: .accepted)
        }
        t.add(.get, "/integrity-runs", "Integrity runs newest first, with their counts over the accounts you can see (administrators, "
            + "auditors, password administrators; ?trigger=manual|nightly; paged: limit= up to 100, cursor=)", response: .list(RunListItem.self),
            query: QueryParam.paging(max: RunListQuery.maxLimit) + [QueryParam("trigger", .choice(["manual", "nightly"]), "how the runs started")]) { req, ctx in
            let q = ListParameters(req)
            let trigger = try q.word("trigger", ["manual", "nightly"])
            return try Reply.page(try await custody.integrity.list(trigger: trigger, try q.page(max: RunListQuery.maxLimit), by: try ctx.caller()), req)
        }
        t.add(.get, "/integrity-runs/:id", "An integrity run's progress and the results of the accounts you can see (administrators, auditors, password administrators)", response: .object(RotationRunView.self)) { _, ctx in
            try Reply.json(try await custody.integrity.run(try ctx.param("id"), by: try ctx.caller()))
        }
        t.add(.get, "/reports/integrity", "The Password Integrity report of the accounts you can see (?format=csv)", response: .report(IntegrityReport.self),
            query: [QueryParam("format", .choice(["json", "csv"]), "csv: the same rows as text/csv")]) { req, ctx in
            let format = try ListParameters(req).word("format", ["json", "csv"])
            let rows = try await custody.integrity.report(by: try ctx.caller())
            if format == "csv" {
                var response = Response(status: .ok, body: .init(byteBuffer: .init(string: IntegrityReport.csv(rows))))
                response.headers[.contentType] = "text/csv; charset=utf-8"
                return response
            }
            return try Reply.json(IntegrityReport(rows))
        }
    }
}
