import Foundation
import HTTPTypes
import Hummingbird

/// The audit viewer, with filters, and its CSV export: the API's query and the same scoping.
extension WebConsole {
    func audit(_ web: RouterGroup<AppContext>) {
        web.get("/audit") { request, _ in
            try await page(request) { v in
                var (q, filters) = try query(request, v)
                let after = request.uri.queryParameters.get("after").flatMap { PageCursor(token: String($0)) }
                q.beforeID = after.flatMap { Int64($0.id) }
                q.limit = 201
                let found = Page(fetched: try await read(q, v), PageRequest(limit: 200, after: after)) { PageCursor(key: "", id: String($0.id)) }
                let rows = found.items
                return try render("audit", ["nav": nav(v), "filters": filters, "count": rows.count,
                    "more": found.next != nil, "paged": after != nil, "first": Self.link("/audit", filters),
                    "next": found.next.map { Self.link("/audit", filters.merging(["after": $0.token]) { $1 }) } ?? "",
                    "csv": "/audit.csv?" + filters.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                        .sorted().joined(separator: "&"),
                    "rows": rows.map { e in ["at": Self.when(Date(timeIntervalSince1970: e.at)), "user": e.user, "ip": e.ip,
                        "operation": e.operation, "resource": e.resource ?? "", "account": e.account ?? "", "reason": e.reason ?? "",
                        "outcome": e.outcome, "message": e.message ?? ""] }])
            }
        }
        web.get("/audit.csv") { request, _ in
            try await page(request) { v in
                var (q, _) = try query(request, v)
                q.limit = 10_000
                let rows = try await read(q, v)
                var csv = "id,at,user,ip,operation,resource,account,reason,ticketId,outcome,message\r\n"
                for e in rows {
                    csv += [String(e.id), Self.when(Date(timeIntervalSince1970: e.at)), e.user, e.ip, e.operation, e.resource ?? "",
                        e.account ?? "", e.reason ?? "", e.ticketId ?? "", e.outcome, e.message ?? ""].map(Self.csvCell).joined(separator: ",") + "\r\n"
                }
                var headers = HTTPFields()
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"custody-audit.csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
            }
        }
    }

    /// The filters of the query string (user, operation); `read` adds the caller's scope.
    func query(_ request: Request, _ v: Visitor) throws -> (AuditLog.Query, [String: String]) {
        try custody.authorizer.check(v.principal, .readAudit)
        var q = AuditLog.Query()
        q.limit = 200
        var filters: [String: String] = [:]
        for key in ["user", "operation"] {
            if let value = request.uri.queryParameters.get(key).map { String($0) }, !value.isEmpty {
                try Validate.text(value, field: key, max: 200)
                filters[key] = value
            }
        }
        q.user = filters["user"]
        q.operation = filters["operation"]
        return (q, filters)
    }

    func read(_ q: AuditLog.Query, _ v: Visitor) async throws -> [AuditEntry] { try await custody.auditTrail.entries(q, by: v.principal) }

    /// A CSV cell, quoted, and defused when a spreadsheet would take it for a formula.
    static func csvCell(_ s: String) -> String {
        var v = s
        if let f = v.first, "=+-@\t\r".contains(f) { v = "'" + v }
        return "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
