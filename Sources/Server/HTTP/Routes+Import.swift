import Foundation
import Hummingbird
import Shared

/// The answer to a CSV import: counts, and each line's outcome.
struct ImportResult: Codable, Sendable {
    struct Line: Codable, Sendable {
        let line: Int
        /// success or failure.
        let outcome: String
        let message: String
    }
    let imported: Int
    let failed: Int
    let results: [Line]
}

extension Routes {
    static let importColumns = ["resourcename", "accountname", "dnsname", "type", "password", "description", "department",
        "location", "url", "accountdescription", "notes"]

    func importCSV(_ t: RouteTable) {
        t.add(.post, "/import/resources", "Import resources and accounts from CSV (text/csv; header row; resourceName and accountName required)",
            response: .object(ImportResult.self), rawBody: "text/csv") { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .importCSV)
            guard (req.headers[.contentType] ?? "").lowercased().hasPrefix("text/csv") else {
                throw APIError(.unsupportedMediaType, "unsupported_media_type", "send Content-Type: text/csv")
            }
            let limit = custody.config.maxBodyBytes * 8
            let buffer: ByteBuffer
            do { buffer = try await req.body.collect(upTo: limit) } catch {
                throw APIError(.contentTooLarge, "body_too_large", "the CSV is larger than \(limit) bytes")
            }
            guard let text = String(bytes: buffer.readableBytesView, encoding: .utf8) else {
                throw APIError.badRequest("invalid_csv", "the CSV is not UTF-8")
            }
            let rows: [[String]]
            do { rows = try CSV.parse(text) } catch let error as CSV.Failure { throw APIError.badRequest("invalid_csv", "line \(error.line): \(error.message)") }
            guard let header = rows.first?.map({ $0.trimmingWhitespace.lowercased() }) else {
                throw APIError.badRequest("invalid_csv", "the CSV is empty")
            }
            if let bad = header.firstIndex(where: { !Self.importColumns.contains($0) }) {
                // Only the position: a file without a header row would otherwise echo its first line's values.
                throw APIError.badRequest("invalid_csv", "unknown column #\(bad + 1) in the header; columns: \(Self.importColumns.joined(separator: ", "))")
            }
            guard header.contains("resourcename"), header.contains("accountname") else {
                throw APIError.badRequest("invalid_csv", "the header must name resourceName and accountName")
            }
            var results: [ImportResult.Line] = []
            for (index, fields) in rows.dropFirst().enumerated() {
                let lineNo = index + 2
                guard fields.count == header.count else {
                    results.append(.init(line: lineNo, outcome: "failure", message: "expected \(header.count) fields, found \(fields.count)"))
                    try await custody.auditTrail.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "import_line", outcome: "failure",
                        message: "line \(lineNo): wrong field count"))
                    continue
                }
                var v: [String: String] = [:]
                for (k, f) in zip(header, fields) where !f.isEmpty { v[k] = f }
                do {
                    let msg = try await custody.accountCreation.importLine(v, by: p, ip: ctx.remoteIP, line: lineNo)
                    results.append(.init(line: lineNo, outcome: "success", message: msg))
                } catch let e as any APIFailure {
                    results.append(.init(line: lineNo, outcome: "failure", message: e.message))
                    try await custody.auditTrail.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "import_line", outcome: "failure",
                        resource: v["resourcename"], account: v["accountname"], message: "line \(lineNo): \(e.message)"))
                } catch {
                    let message = (error as? Authorizer.Denied)?.reason ?? "internal error"
                    results.append(.init(line: lineNo, outcome: "failure", message: message))
                    try await custody.auditTrail.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "import_line", outcome: "failure",
                        resource: v["resourcename"], account: v["accountname"], message: "line \(lineNo): \(message)"))
                }
            }
            let ok = results.filter { $0.outcome == "success" }.count
            return try Reply.json(ImportResult(imported: ok, failed: results.count - ok, results: results))
        }
    }
}
