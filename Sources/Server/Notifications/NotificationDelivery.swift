import Foundation
import Logging
import Notify

/// Delivering the outbox: each due entry is sent once; a failure is logged and retried with
/// backoff (1, 2, 4 … minutes, at most an hour apart) up to `attempts`, then audited as
/// `notification_failed`. Each entry is one address or one syslog message, so a bad address never
/// holds back the others.
struct NotificationDelivery: Sendable {
    let outbox: any OutboxStore
    /// The configured mail server and syslog receiver, read when a round starts.
    let channels: @Sendable () async throws -> NotificationChannels
    let attempts: Int
    let logger: Logger
    let now: @Sendable () -> Date

    /// Sends what is due now; returns how many were sent.
    @discardableResult
    func deliverDue(limit: Int = 100) async throws -> Int {
        let due = try await outbox.take(at: now(), limit: limit, hold: 120)
        guard !due.isEmpty else { return 0 }
        let channels = try await channels()
        var sent = 0
        for n in due {
            do {
                try await Self.deliver(n, channels)
                try await outbox.markSent(n.id, at: now())
                sent += 1
            } catch {
                try await failed(n, error)
            }
        }
        return sent
    }

    static func deliver(_ n: OutboxEntry, _ channels: NotificationChannels) async throws(NotifyError) {
        switch n.channel {
        case .email:
            guard let smtp = channels.smtp else { throw NotifyError(.badInput, "no mail server is configured") }
            try await SMTPClient(smtp).send(MailMessage(from: smtp.from, to: [n.recipient], subject: n.subject, body: n.body,
                date: n.createdAt, messageID: "\(n.id)@\(channels.serverName)", attachments: n.attachments))
        case .syslog:
            guard let syslog = channels.syslog else { throw NotifyError(.badInput, "no syslog receiver is configured") }
            let event = NotificationEvent(rawValue: n.event)
            let message = SyslogMessage(severity: event?.severity == 4 ? .warning : .notice, time: n.createdAt, hostname: channels.serverName,
                msgID: n.event, fields: n.fields.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }, text: n.body)
            try await SyslogClient(syslog).send([message.rendered(syslog)])
        }
    }

    private func failed(_ n: OutboxEntry, _ error: any Error) async throws {
        let reason = (error as? NotifyError)?.description ?? ResetEngine.describe(error)
        let tried = n.attempts + 1
        let giveUp = tried >= attempts
        let next = now().addingTimeInterval(min(60 * pow(2, Double(tried - 1)), 3600))
        logger.warning("notification delivery failed", metadata: ["id": "\(n.id)", "channel": "\(n.channel.rawValue)", "event": "\(n.event)",
            "attempt": "\(tried)", "error": "\(reason)", "final": "\(giveUp)"])
        let audit = giveUp
            ? AuditEvent(user: "system", ip: "server", operation: "notification_failed", outcome: "failure",
                message: "\(n.event) by \(n.channel.rawValue) to \(n.recipient): gave up after \(tried) attempts: \(reason)") : nil
        try await outbox.markFailed(n.id, attempts: tried, next: next, error: reason, giveUp: audit)
    }
}
