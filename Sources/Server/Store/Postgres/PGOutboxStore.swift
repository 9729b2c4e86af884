import Foundation
import Notify

/// `OutboxStore` on PostgreSQL: table `notifications`; fields and accountIds as JSON text.
struct PGOutboxStore: OutboxStore {
    let db: PGDatabase
    let log: PGAuditLog

    func add(_ entries: [OutboxEntry]) async throws {
        try await db.write { c in for e in entries { try await Self.insert(e, c) } }
    }

    func due(at: Date, limit: Int) async throws -> [OutboxEntry] {
        try await db.read { c in
            try await c.rows("SELECT * FROM notifications WHERE state = 'pending' AND nextAttemptAt <= ? ORDER BY createdAt, id LIMIT ?", [at, limit])
                .map(Self.entry)
        }
    }

    /// Due entries, their next attempt moved past `hold` so no other node takes them meanwhile.
    func take(at: Date, limit: Int, hold: TimeInterval) async throws -> [OutboxEntry] {
        try await db.write { c in
            let rows = try await c.rows("""
                SELECT * FROM notifications WHERE state = 'pending' AND nextAttemptAt <= ? ORDER BY createdAt, id LIMIT ? FOR UPDATE SKIP LOCKED
                """, [at, limit]).map(Self.entry)
            for e in rows { try await c.execute("UPDATE notifications SET nextAttemptAt = ? WHERE id = ?", [at.seconds + hold, e.id]) }
            return rows
        }
    }

    func markSent(_ id: String, at: Date) async throws {
        try await db.write { c in
            try await c.execute("UPDATE notifications SET state = 'sent', attempts = attempts + 1, sentAt = ?, lastError = NULL, attachments = NULL WHERE id = ?", [at, id])
        }
    }

    func markFailed(_ id: String, attempts: Int, next: Date, error: String, giveUp: AuditEvent?) async throws {
        try await db.write { c in
            try await c.execute("UPDATE notifications SET state = ?, attempts = ?, nextAttemptAt = ?, lastError = ? WHERE id = ?",
                [giveUp == nil ? "pending" : "failed", attempts, next, error, id])
            if let giveUp {
                // A message given up on keeps its record, not its files.
                try await c.execute("UPDATE notifications SET attachments = NULL WHERE id = ?", [id])
                try await log.append(giveUp, c)
            }
        }
    }

    func page(state: OutboxState?, limit: Int, offset: Int) async throws -> [OutboxEntry] {
        try await db.read { c in
            try await c.rows("SELECT id, event, channel, recipient, subject, body, fields, createdAt, state, attempts, nextAttemptAt, sentAt, lastError, accountIds FROM notifications WHERE (?::text IS NULL OR state = ?) ORDER BY createdAt DESC, id LIMIT ? OFFSET ?",
                [state?.rawValue, state?.rawValue, limit, offset]).map(Self.entry)
        }
    }

    /// Adds `e` inside the caller's transaction: the event and its notification commit together.
    static func insert(_ e: OutboxEntry, _ c: PGConnection) async throws {
        try await c.execute("""
            INSERT INTO notifications(id, event, channel, recipient, subject, body, fields, createdAt, state, attempts, nextAttemptAt,
              sentAt, lastError, accountIds, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [e.id, e.event, e.channel.rawValue, e.recipient, e.subject, e.body, try json(e.fields), e.createdAt, e.state.rawValue,
                e.attempts, e.nextAttemptAt, e.sentAt, e.lastError, try json(e.accountIds),
                e.attachments.isEmpty ? nil : try json(e.attachments)])
    }

    private static func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder.api.encode(v), as: UTF8.self) }

    private static func entry(_ r: PGRow) throws -> OutboxEntry {
        OutboxEntry(id: try r["id"], event: try r["event"], channel: try StoreError.decode(OutboxChannel.self, try r["channel", as: String.self]),
            recipient: try r["recipient"], subject: try r["subject"], body: try r["body"],
            fields: (try? JSONDecoder.api.decode([[String]].self, from: Data(try r["fields", as: String.self].utf8))) ?? [],
            accountIds: (try? JSONDecoder.api.decode([String].self, from: Data(try r["accountIds", as: String.self].utf8))) ?? [],
            createdAt: try r["createdAt"], state: try StoreError.decode(OutboxState.self, try r["state", as: String.self]),
            attempts: try r["attempts"], nextAttemptAt: try r["nextAttemptAt"], sentAt: try r["sentAt"], lastError: try r["lastError"],
            attachments: (r.has("attachments") ? try r["attachments", as: String?.self] : nil).flatMap { try? JSONDecoder.api.decode([MailAttachment].self, from: Data($0.utf8)) } ?? [])
    }
}
