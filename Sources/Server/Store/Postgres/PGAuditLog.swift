import Foundation

/// The audit chain on PostgreSQL: the same records, digests and authenticated head as SQLite's
/// `AuditLog`. Appends run inside a write transaction, which holds the cluster's writer lock, so
/// the chain stays linear whichever node appends.
struct PGAuditLog: Sendable {
    let keys: AuditKeyBox

    func key() throws -> Data {
        guard let key = keys.key else { throw VaultError(.keyMissing, "the audit key is not loaded (the vault is not open)") }
        return key
    }

    func append(_ e: AuditEvent, _ c: PGConnection, at date: Date = Date()) async throws {
        let key = try key()
        let last = try await c.row("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
        var id: Int64 = try last?["id"] ?? 0
        var prev: String = try last?["hash"] ?? AuditEntry.genesis
        let at = (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000
        switch try await head(key: key, c) {
        case .valid(let headID, let headHash):
            if headID >= id { (id, prev) = (headID, headHash) }
        case .forged:
            let alarm = AuditEvent(user: "system", ip: "server", operation: AuditHead.alarm, outcome: "failure",
                message: "the audit head was missing or did not authenticate: records before this one may have been removed")
            (id, prev) = try await insert(alarm, id: id + 1, prev: prev, at: at, key: key, c)
        }
        let (newID, hash) = try await insert(e, id: id + 1, prev: prev, at: at, key: key, c)
        try await c.execute("""
            INSERT INTO settings(key, value) VALUES ('audit.head', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """, [AuditHead.value(id: newID, hash: hash, key: key)])
    }

    private func insert(_ e: AuditEvent, id: Int64, prev: String, at: Double, key: Data, _ c: PGConnection) async throws -> (Int64, String) {
        let fields: [String?] = [
            e.user, e.ip, e.operation, e.resource, e.account, e.reason, e.ticketId, e.outcome, e.message, e.resourceId, e.accountId,
        ]
        let hash = AuditEntry.digest(key: key, prev: prev, id: id, at: at, fields: fields)
        try await c.execute("""
            INSERT INTO audit (id, at, "user", ip, operation, resource, account, reason, ticketId, outcome,
              message, resourceId, accountId, prevHash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
            """, [id, at] + fields.map { $0.pgValue } + [prev, hash])
        return (id, hash)
    }

    func head(key: Data, _ c: PGConnection) async throws -> AuditHead.State {
        AuditHead.parse(try await c.scalar(String.self, "SELECT value FROM settings WHERE key = 'audit.head'"), key: key)
    }

    /// Walks the whole chain, oldest first, as `custody audit verify` does on SQLite.
    func verify(_ c: PGConnection) async throws -> AuditVerifier.Result {
        let key = try key()
        let checkpoint = AuditCheckpoint.parse(try await c.scalar(String.self, "SELECT value FROM settings WHERE key = ?", [AuditCheckpoint.key]), key: key)
        let (start, forged) = AuditVerifier.Walk.from(checkpoint, key: key)
        guard var walk = start else { return forged! }
        if let below = try await c.scalar(Int64.self, "SELECT MIN(id) FROM audit WHERE id < ?", [walk.expectedID]) {
            return AuditVerifier.Walk.belowCheckpoint(below)
        }
        var after: Int64 = walk.expectedID - 1
        while true {
            let page = try await c.all(AuditEntry.self, "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT 1000", [after])
            for e in page { if let bad = walk.next(e) { return bad } }
            guard let last = page.last else { break }
            after = last.id
        }
        let alarm = try await c.scalar(Int64.self, "SELECT MIN(id) FROM audit WHERE operation = ?", [AuditHead.alarm])
        let users = try await c.scalar(Int.self, "SELECT COUNT(*) FROM users") ?? 0
        return walk.finish(head: try await head(key: key, c), firstAlarm: alarm, hasUsers: users > 0)
    }
}
