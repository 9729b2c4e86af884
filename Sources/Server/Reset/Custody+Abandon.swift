import Foundation
import GRDB
import Shared

struct AbandonBody: APIBody {
    static let fields = ["reason"]
    static let required = ["reason"]
    var reason: String
    func validate() throws {
        try Validate.text(reason, field: "reason", max: 1000)
        if reason.trimmingWhitespace.isEmpty { throw DomainError.invalid("invalid_field", "field 'reason' must say why the reset is abandoned") }
    }
}

/// An administrator ends a reset whose reconcile cannot settle (the target is gone, its agent
/// revoked, its reset configuration removed). Nothing is deleted: the pending password stays a
/// retrievable candidate until a verify proves which password works, and the account stays `unknown`.
extension Custody {
    func abandonReset(_ id: String, by p: Principal, reason: String, ip: String) async throws -> TaskRecord {
        try authorizer.check(p, .manageSettings)
        let at = now()
        return try await store.write { db -> TaskRecord in
            guard var t = try TaskRecord.fetchOne(db, key: id) else { throw DomainError.notFound("task") }
            guard t.kind == .reset, t.state == .unknown else {
                throw DomainError(.conflict, "not_abandonable", "only a reset waiting in reconcile (state unknown) can be abandoned; this one is \(t.state.rawValue)")
            }
            t.end(.failed, code: "abandoned",
                message: "abandoned by \(p.username): \(reason); the candidate password stays retrievable until a verify settles it", at: at)
            try t.update(db)
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'unknown' WHERE id = ?", arguments: [t.accountId])
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "abandon_reset", reason: reason,
                message: "task \(t.id): reconcile abandoned; candidate kept", resourceId: t.resourceId, accountId: t.accountId), in: db)
            return t
        }
    }
}
