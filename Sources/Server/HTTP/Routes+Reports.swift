import Foundation
import Hummingbird

extension Routes {
    func reports(_ t: RouteTable) {
        t.add(.get, "/reports/expiry", "Passwords past their policy's maximum age and those reaching it within ?within= days (default "
            + "\(ExpiryReport.defaultWithin)), soonest first, of the accounts you can see (?format=csv)", response: .report(ExpiryReport.self),
            query: [QueryParam("within", .integer(0...ExpiryReport.maxWithin), "days ahead (default \(ExpiryReport.defaultWithin))"),
                QueryParam("format", .choice(["json", "csv"]), "csv: the same rows as text/csv")]) { req, ctx in
            let q = ListParameters(req)
            var within = ExpiryReport.defaultWithin
            if let w = q.query["within"] {
                guard let n = Int(w), (0...ExpiryReport.maxWithin).contains(n) else {
                    throw APIError.badRequest("invalid_parameter", "within must be 0...\(ExpiryReport.maxWithin) days")
                }
                within = n
            }
            let format = try q.word("format", ["json", "csv"])
            let report = try await custody.expiry.report(by: try ctx.caller(), withinDays: within)
            if format == "csv" {
                var response = Response(status: .ok, body: .init(byteBuffer: .init(string: report.csv)))
                response.headers[.contentType] = "text/csv; charset=utf-8"
                return response
            }
            return try Reply.json(report)
        }
    }
}
