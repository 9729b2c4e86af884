import Foundation
import Notify
import GRDB

/// `OutboxStore` on SQLite: table `notifications`; fields and accountIds as JSON text.
struct SQLiteOutboxStore: OutboxStore {
    let db: DatabasePool

    func add(_ entries: [OutboxEntry]) async throws {
        try await db.write { db in for e in entries { try Self.insert(e, db) } }
    }

    func due(at: Date, limit: Int) async throws -> [OutboxEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM notifications WHERE state = 'pending' AND nextAttemptAt <= ? ORDER BY createdAt, id LIMIT ?",
                arguments: [at.seconds, limit]).map(Self.entry)
        }
    }

    func markSent(_ id: String, at: Date) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE notifications SET state = 'sent', attempts = attempts + 1, sentAt = ?, lastError = NULL, attachments = NULL WHERE id = ?",
                arguments: [at.seconds, id])
        }
    }

    func markFailed(_ id: String, attempts: Int, next: Date, error: String, giveUp: AuditEvent?) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE notifications SET state = ?, attempts = ?, nextAttemptAt = ?, lastError = ? WHERE id = ?",
                arguments: [giveUp == nil ? "pending" : "failed", attempts, next.seconds, error, id])
            if let giveUp {
                // A message given up on keeps its record, not its files.
                try db.execute(sql: "UPDATE notifications SET attachments = NULL WHERE id = ?", arguments: [id])
                try AuditLog.append(giveUp, in: db)
            }
        }
    }

    func page(state: OutboxState?, limit: Int, offset: Int) async throws -> [OutboxEntry] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT id, event, channel, recipient, subject, body, fields, createdAt, state, attempts, nextAttemptAt, sentAt, lastError, accountIds FROM notifications WHERE (? IS NULL OR state = ?) ORDER BY createdAt DESC, id LIMIT ? OFFSET ?",
                arguments: [state?.rawValue, state?.rawValue, limit, offset]).map(Self.entry)
        }
    }

    /// Adds `e` inside the caller's transaction: the event and its notification commit together.
    static func insert(_ e: OutboxEntry, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO notifications(id, event, channel, recipient, subject, body, fields, createdAt, state, attempts, nextAttemptAt,
              sentAt, lastError, accountIds, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [e.id, e.event, e.channel.rawValue, e.recipient, e.subject, e.body, try json(e.fields), e.createdAt.seconds,
                e.state.rawValue, e.attempts, e.nextAttemptAt.seconds, e.sentAt?.seconds, e.lastError, try json(e.accountIds),
                e.attachments.isEmpty ? nil : try json(e.attachments)])
    }

    private static func json<T: Encodable>(_ v: T) throws -> String { String(decoding: try JSONEncoder.api.encode(v), as: UTF8.self) }

    private static func entry(_ r: Row) throws -> OutboxEntry {
        OutboxEntry(id: r["id"], event: r["event"], channel: try StoreError.decode(OutboxChannel.self, r["channel"]), recipient: r["recipient"],
            subject: r["subject"], body: r["body"], fields: (try? JSONDecoder.api.decode([[String]].self, from: Data((r["fields"] as String).utf8))) ?? [],
            accountIds: (try? JSONDecoder.api.decode([String].self, from: Data((r["accountIds"] as String).utf8))) ?? [],
            createdAt: Date(timeIntervalSince1970: r["createdAt"]), state: try StoreError.decode(OutboxState.self, r["state"]),
            attempts: r["attempts"], nextAttemptAt: Date(timeIntervalSince1970: r["nextAttemptAt"]),
            sentAt: (r["sentAt"] as Double?).map(Date.init(timeIntervalSince1970:)), lastError: r["lastError"],
            attachments: (r["attachments"] as String?).flatMap { try? JSONDecoder.api.decode([MailAttachment].self, from: Data($0.utf8)) } ?? [])
    }
}
