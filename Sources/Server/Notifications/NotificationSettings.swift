import Foundation
import Notify
import Shared

/// The body of `PUT /settings/notifications`: the mail server, the syslog receiver and what
/// messages say about this server. A section left out is removed; `smtp.password` left out
/// keeps the stored one.
struct NotificationSettingsBody: APIBody, Codable {
    struct SMTP: Codable, Sendable, Equatable {
        var host: String
        var port: Int?
        var security: SMTPSettings.Security?
        var username: String?
        var password: Secret?
        var from: String
        var caFile: String?
        var timeoutSeconds: Int?
    }

    struct Syslog: Codable, Sendable, Equatable {
        var host: String
        var port: Int?
        var transport: SyslogSettings.Transport?
        var format: SyslogSettings.Format?
        var facility: String?
    }

    var smtp: SMTP?
    var syslog: Syslog?
    /// The console address put in messages (PMP's "access URL").
    var accessURL: String?
    /// The server name in syslog messages; the host name by default.
    var serverName: String?

    static let fields = ["smtp", "syslog", "accessURL", "serverName"]

    func validate() throws {
        if let s = smtp {
            try Validate.host(s.host, field: "smtp.host")
            try Validate.number(s.port, field: "smtp.port", in: 1...65535)
            try Validate.email(s.from, field: "smtp.from")
            try Validate.number(s.timeoutSeconds, field: "smtp.timeoutSeconds", in: 1...300)
            if Validate.recorder == nil {  // these depend on the combination and the server, not on the shape
                if s.username != nil && (s.security ?? .starttls) == .none {
                    throw DomainError.invalid("insecure_auth", "smtp.username needs security starttls or tls: the password is never sent in clear")
                }
                if let ca = s.caFile, !FileManager.default.isReadableFile(atPath: ca) {
                    throw DomainError.invalid("invalid_field", "smtp.caFile '\(ca)' is not a readable file on the server")
                }
            }
        }
        if let s = syslog {
            try Validate.host(s.host, field: "syslog.host")
            try Validate.number(s.port, field: "syslog.port", in: 1...65535)
            try Validate.word(s.facility, field: "syslog.facility", in: SyslogSettings.facilities.keys.sorted())
        }
        try Validate.text(accessURL, field: "accessURL", max: 500)
        try Validate.text(serverName, field: "serverName", max: 200)
    }

    static func address(_ e: String, _ field: String) throws { try Validate.email(e, field: field) }
}

/// The stored settings, with the SMTP password opened from the vault.
struct NotificationChannels: Sendable {
    var smtp: SMTPSettings?
    var syslog: SyslogSettings?
    var accessURL: String?
    var serverName: String

    /// The channels `body` describes, with the SMTP password opened.
    init(_ body: NotificationSettingsBody?, password: Secret?) {
        accessURL = body?.accessURL
        serverName = body?.serverName ?? ProcessInfo.processInfo.hostName
        if let s = body?.smtp {
            let security = s.security ?? .starttls
            smtp = SMTPSettings(host: s.host, port: s.port ?? (security == .tls ? 465 : 587), security: security, username: s.username,
                password: password, from: s.from, heloName: serverName, caFile: s.caFile, timeout: .seconds(s.timeoutSeconds ?? 30))
        }
        if let s = body?.syslog {
            syslog = SyslogSettings(host: s.host, port: s.port ?? 514, transport: s.transport ?? .udp, format: s.format ?? .rfc5424,
                facility: s.facility ?? "auth")
        }
    }

    /// What `GET /settings/notifications` shows: the password only as `passwordSet`.
    struct View: Codable, Sendable {
        struct SMTP: Codable, Sendable {
            var host: String
            var port: Int
            var security: SMTPSettings.Security
            var username: String?
            var passwordSet: Bool
            var from: String
            var caFile: String?
            var timeoutSeconds: Int
        }
        struct Syslog: Codable, Sendable {
            var host: String
            var port: Int
            var transport: SyslogSettings.Transport
            var format: SyslogSettings.Format
            var facility: String
        }
        var smtp: SMTP?
        var syslog: Syslog?
        var accessURL: String?
        var serverName: String
    }

    var view: View {
        let c = self
        return View(
            smtp: c.smtp.map { s in
                View.SMTP(host: s.host, port: s.port, security: s.security, username: s.username, passwordSet: s.password != nil, from: s.from,
                    caFile: s.caFile, timeoutSeconds: Int(s.timeout.components.seconds))
            },
            syslog: c.syslog.map { View.Syslog(host: $0.host, port: $0.port, transport: $0.transport, format: $0.format, facility: $0.facility) },
            accessURL: c.accessURL, serverName: c.serverName)
    }
}
