import Foundation
import GRDB
import HTTPTypes
import Hummingbird

struct IntegritySettingsBody: APIBody {
    static let fields = ["dailyAt", "timeZone"]
    var dailyAt: String?
    var timeZone: String?
    func validate() throws {
        if let d = dailyAt, RotationSchedule.minutes(d) == nil { throw APIError.badRequest("invalid_field", "dailyAt must be HH:MM (24 h)") }
        if let tz = timeZone, TimeZone(identifier: tz) == nil { throw APIError.badRequest("invalid_field", "timeZone '\(tz)' is not an IANA time zone") }
    }
}

/// One account in the Password Integrity report.
struct IntegrityRow: Codable, Sendable {
    var resourceId, resource, accountId, account, status: String
    var viaAgent: Bool
    var lastVerifiedAt, lastChangedAt: Date?
    var lastChangedBy: String?
}

extension Routes {
    /// One RFC 4180 field; a leading formula character is neutralised for spreadsheets.
    static func csvField(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@".contains(first) { v = "'" + v }
        return v.contains(where: { ",\"\n\r".contains($0) }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : v
    }

    func integrity(_ t: RouteTable) {
        t.add(.get, "/settings/integrity", "When the nightly integrity check runs") { _, ctx in
            _ = try ctx.caller()
            let out = try await custody.store.read { db in
                ["dailyAt": try Settings.get(Settings.integrityDailyAt, db) ?? "01:00",
                 "timeZone": try Settings.get(Settings.integrityTimeZone, db) ?? TimeZone.current.identifier]
            }
            return try Reply.json(out)
        }
        t.add(.put, "/settings/integrity", "Change when the nightly integrity check runs (administrators)", body: IntegritySettingsBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(IntegritySettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                if let d = b.dailyAt { try Settings.set(Settings.integrityDailyAt, d, db) }
                if let tz = b.timeZone { try Settings.set(Settings.integrityTimeZone, tz, db) }
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "save_settings",
                    message: "integrity check daily at \(b.dailyAt ?? "(unchanged)") \(b.timeZone ?? "")"), in: db)
            }
            return Reply.noContent()
        }
        t.add(.post, "/integrity/run", "Run the integrity check now (administrators); 202 {runId}") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let run = try await custody.store.write { db in try custody.startIntegrityRun(trigger: "manual", by: p.username, db) }
            return try Reply.json(["runId": run.id], status: .accepted)
        }
        t.add(.get, "/integrity-runs/:id", "An integrity run's progress and the results of the accounts you can see (administrators, auditors, password administrators)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            let view = try await custody.store.read { db -> RotationRunView in
                guard let row = try Row.fetchOne(db, sql: "SELECT *, '' AS groupId FROM integrityRuns WHERE id = ?", arguments: [try ctx.param("id")])
                else { throw APIError.notFound("integrity run") }
                return try Self.runView(row, scope: try ListScope.of(p, db), db)
            }
            return try Reply.json(view)
        }
        t.add(.get, "/reports/integrity", "The Password Integrity report of the accounts you can see (?format=csv)") { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            let rows = try await custody.store.read { db in
                let scope = try ListScope.of(p, db)
                return try Row.fetchAll(db, sql: """
                    SELECT r.id AS rid, r.name AS rname, a.id AS aid, a.loginName, a.syncStatus, a.lastVerifiedAt, a.lastChangedAt,
                      c.json AS config, (SELECT createdBy FROM secrets s WHERE s.accountId = a.id AND s.state = 'current') AS changedBy
                    FROM accounts a JOIN resources r ON r.id = a.resourceId JOIN resetConfigs c ON c.resourceId = r.id
                    ORDER BY r.name, a.loginName
                    """).filter { scope.sees(resourceId: $0["rid"], accountId: $0["aid"]) }.map { row -> IntegrityRow in
                    let agent = ResetConfig.decode(row["config"])?.mode == .agent
                    return IntegrityRow(resourceId: row["rid"], resource: row["rname"], accountId: row["aid"], account: row["loginName"],
                        status: row["syncStatus"], viaAgent: agent,
                        lastVerifiedAt: row["lastVerifiedAt"] as Date?, lastChangedAt: row["lastChangedAt"] as Date?,
                        lastChangedBy: row["changedBy"])
                }
            }
            if req.uri.queryParameters.get("format") == "csv" {
                var csv = "resource,account,status,viaAgent,lastVerifiedAt,lastChangedAt,lastChangedBy\n"
                let f = ISO8601DateFormatter()
                for r in rows {
                    let verified: String = r.lastVerifiedAt.map { f.string(from: $0) } ?? ""
                    let changed: String = r.lastChangedAt.map { f.string(from: $0) } ?? ""
                    let cells: [String] = [r.resource, r.account, r.status, String(r.viaAgent), verified, changed, r.lastChangedBy ?? ""]
                    csv += cells.map(Self.csvField).joined(separator: ",") + "\n"
                }
                var response = Response(status: .ok, body: .init(byteBuffer: .init(string: csv)))
                response.headers[.contentType] = "text/csv; charset=utf-8"
                return response
            }
            func count(_ s: String) -> Int { rows.filter { $0.status == s }.count }
            struct Report: Codable { let summary: [String: Int]; let accounts: [IntegrityRow] }
            return try Reply.json(Report(summary: ["resetEnabled": rows.count, "viaAgent": rows.filter(\.viaAgent).count,
                "inSync": count("inSync"), "outOfSync": count("outOfSync"), "unreachable": count("unreachable"),
                "unknown": count("unknown"), "neverChecked": count("neverChecked")], accounts: rows))
        }
    }
}
