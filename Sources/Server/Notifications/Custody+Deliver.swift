import Foundation
import GRDB
import Notify

/// Delivering the outbox: each due row is sent once; a failure is logged and retried with
/// backoff (1, 2, 4 … minutes, at most an hour apart) up to `notificationAttempts`, then audited
/// as `notification_failed`. Each row is one address or one syslog message, so a bad address
/// never holds back the others.
extension Custody {
    struct Outgoing: Sendable {
        var id, event, channel, recipient, subject, body: String
        var fields: [[String]]
        var createdAt: Date
        var attempts: Int
    }

    /// Sends what is due now; returns how many were sent.
    @discardableResult
    func deliverDueNotifications(limit: Int = 100) async throws -> Int {
        let at = now()
        let (due, channels) = try await store.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT * FROM notifications WHERE state = 'pending' AND nextAttemptAt <= ? ORDER BY createdAt LIMIT ?
                """, arguments: [at.seconds, limit]).map { row in
                Outgoing(id: row["id"], event: row["event"], channel: row["channel"], recipient: row["recipient"], subject: row["subject"],
                    body: row["body"], fields: (try? JSONDecoder.api.decode([[String]].self, from: Data((row["fields"] as String).utf8))) ?? [],
                    createdAt: Date(timeIntervalSince1970: row["createdAt"]), attempts: row["attempts"])
            }
            return (rows, try NotificationChannels.load(vault, db))
        }
        var sent = 0
        for n in due {
            do {
                try await deliver(n, channels)
                try await store.write { db in
                    try db.execute(sql: "UPDATE notifications SET state = 'sent', attempts = attempts + 1, sentAt = ?, lastError = NULL WHERE id = ?",
                        arguments: [now().seconds, n.id])
                }
                sent += 1
            } catch {
                try await deliveryFailed(n, error)
            }
        }
        return sent
    }

    func deliver(_ n: Outgoing, _ channels: NotificationChannels) async throws(NotifyError) {
        switch n.channel {
        case "email":
            guard let smtp = channels.smtp else { throw NotifyError(.badInput, "no mail server is configured") }
            try await SMTPClient(smtp).send(MailMessage(from: smtp.from, to: [n.recipient], subject: n.subject, body: n.body,
                date: n.createdAt, messageID: "\(n.id)@\(channels.serverName)"))
        default:
            guard let syslog = channels.syslog else { throw NotifyError(.badInput, "no syslog receiver is configured") }
            let event = NotificationEvent(rawValue: n.event)
            let message = SyslogMessage(severity: event?.severity == 4 ? .warning : .notice, time: n.createdAt, hostname: channels.serverName,
                msgID: n.event, fields: n.fields.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, text: n.body)
            try await SyslogClient(syslog).send([message.rendered(syslog)])
        }
    }

    func deliveryFailed(_ n: Outgoing, _ error: any Error) async throws {
        let reason = (error as? NotifyError)?.description ?? Self.describe(error)
        let attempts = n.attempts + 1
        let giveUp = attempts >= config.notificationAttempts
        let next = now().seconds + min(60 * pow(2, Double(attempts - 1)), 3600)
        logger.warning("notification delivery failed", metadata: ["id": "\(n.id)", "channel": "\(n.channel)", "event": "\(n.event)",
            "attempt": "\(attempts)", "error": "\(reason)", "final": "\(giveUp)"])
        try await store.write { db in
            try db.execute(sql: "UPDATE notifications SET state = ?, attempts = ?, nextAttemptAt = ?, lastError = ? WHERE id = ?",
                arguments: [giveUp ? "failed" : "pending", attempts, next, reason, n.id])
            if giveUp {
                try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "notification_failed", outcome: "failure",
                    message: "\(n.event) by \(n.channel) to \(n.recipient): gave up after \(attempts) attempts: \(reason)"), in: db)
            }
        }
    }
}
