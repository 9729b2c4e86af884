import Foundation
import Hummingbird
import NIOCore

struct AuditPurgeBody: APIBody {
    static let fields = ["before"]
    /// `YYYY-MM-DD` (midnight UTC) or an ISO 8601 time.
    var before: String

    func validate() throws { _ = try cutoff() }

    func cutoff() throws -> Date {
        if let d = ISO8601DateFormatter().date(from: before) { return d }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        guard before.count == 10, let d = day.date(from: before) else {
            throw APIError.badRequest("invalid_field", "before must be a date (2026-01-31) or an ISO 8601 time")
        }
        return d
    }
}

extension Routes {
    func auditLifecycle(_ t: RouteTable) {
        t.add(.post, "/audit/purge", "Move the audit records older than `before` into an archive in auditArchiveDir and leave an authenticated "
            + "checkpoint, so the rest of the trail still verifies (super-administrators); audited as purge_audit",
            body: AuditPurgeBody.self, response: .object(AuditLifecycle.PurgeResult.self)) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(AuditPurgeBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.auditLifecycle.purge(before: try b.cutoff(), by: p, ip: ctx.remoteIP))
        }
        t.add(.get, "/settings/audit-alerts", "Which audit operations raise an audit_alert notice, and the daily digest's time (administrators, auditors, "
            + "password administrators)", response: .object(AuditAlertSettings.self)) { _, ctx in
            try Reply.json(try await custody.auditAlerts.settings(by: try ctx.caller()))
        }
        t.add(.put, "/settings/audit-alerts", "Choose the audit operations that raise audit_alert, and digestAt (HH:MM) for a daily audit_digest "
            + "(super-administrators; the change itself always alerts)", body: AuditAlertSettings.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(AuditAlertSettings.self, limit: custody.config.maxBodyBytes)
            try await custody.auditAlerts.save(b, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/audit/archives", "The audit archives purges wrote, newest first (super-administrators)",
            response: .list(AuditLifecycle.ArchiveInfo.self)) { _, ctx in
            try Reply.json(try custody.auditLifecycle.archives(by: try ctx.caller()))
        }
        t.add(.get, "/audit/archives/:name", "One audit archive, as written (JSON lines; super-administrators)",
            response: .file("application/x-ndjson")) { _, ctx in
            let path = try custody.auditLifecycle.archivePath(try ctx.param("name"), by: try ctx.caller())
            guard let handle = FileHandle(forReadingAtPath: path) else { throw DomainError.notFound("audit archive") }
            var response = Response(status: .ok, body: ResponseBody { writer in
                defer { try? handle.close() }
                while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
            response.headers[.contentType] = "application/x-ndjson"
            return response
        }
        t.add(.get, "/audit/export", "Every audit record in a range you may see, oldest first, streamed (?format=csv|jsonl&from=&to=&resourceId="
            + "&accountId=&user=&operation=); read a page at a time, whatever its size; audited as export_audit",
            response: .file("text/csv", also: ["application/x-ndjson"]),
            query: [QueryParam("format", .choice(["csv", "jsonl"]), "csv (default) or JSON lines"), QueryParam("from", .dateTime, "records at or after"),
                QueryParam("to", .dateTime, "records before"), QueryParam("resourceId"), QueryParam("accountId"), QueryParam("user"),
                QueryParam("operation", .string, "e.g. retrieve_password")]) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            let params = ListParameters(req)
            let jsonl = try params.word("format", ["csv", "jsonl"]) == "jsonl"
            var q = AuditLog.Query()
            q.resourceId = try params.text("resourceId")
            q.accountId = try params.text("accountId")
            q.user = try params.text("user")
            q.operation = try params.text("operation")
            q.since = try params.time("from")
            q.until = try params.time("to")
            try await custody.auditTrail.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "export_audit",
                message: "format \(jsonl ? "jsonl" : "csv")" + [("from", q.since.map(Notice.stamp)), ("to", q.until.map(Notice.stamp)),
                    ("resourceId", q.resourceId), ("accountId", q.accountId), ("user", q.user), ("operation", q.operation)]
                    .compactMap { k, v in v.map { ", \(k) \($0)" } }.joined()))
            let lifecycle = custody.auditLifecycle
            let trail = custody.auditTrail
            let ip = ctx.remoteIP
            var response = Response(status: .ok, body: ResponseBody { [q] writer in
                var sent = 0
                do {
                    if !jsonl { try await writer.write(ByteBuffer(string: AuditExport.csvHeader)) }
                    try await lifecycle.export(q, by: p) { rows in
                        try await writer.write(ByteBuffer(string: rows.map { jsonl ? AuditExport.jsonLine($0) : AuditExport.csvLine($0) }.joined()))
                        sent += rows.count
                    }
                    try await writer.finish(nil)
                } catch {
                    try? await trail.append(AuditEvent(user: p.username, ip: ip, operation: "export_audit", outcome: "failure",
                        message: "the export stopped after \(sent) records: \(type(of: error))"))
                    throw error
                }
            })
            response.headers[.contentType] = jsonl ? "application/x-ndjson" : "text/csv; charset=utf-8"
            return response
        }
    }
}

/// One audit record as an export line.
enum AuditExport {
    static let columns = ["id", "at", "user", "ip", "operation", "outcome", "resource", "account", "reason", "ticketId", "message",
        "resourceId", "accountId", "hash"]
    static let csvHeader = columns.joined(separator: ",") + "\r\n"

    static func csvLine(_ e: AuditEntry) -> String {
        let at = UTCStamp.format(e.at)
        return [String(e.id), at, e.user, e.ip, e.operation, e.outcome, e.resource ?? "", e.account ?? "", e.reason ?? "", e.ticketId ?? "",
            e.message ?? "", e.resourceId ?? "", e.accountId ?? "", e.hash].map(Routes.csvField).joined(separator: ",") + "\r\n"
    }

    static func jsonLine(_ e: AuditEntry) -> String {
        let data = (try? AuditArchive.encoder.encode(e)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
