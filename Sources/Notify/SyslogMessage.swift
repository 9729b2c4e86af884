import Foundation

/// One syslog message, rendered in RFC 5424 or RFC 3164 form.
public struct SyslogMessage: Sendable {
    public enum Severity: Int, Sendable { case error = 3, warning = 4, notice = 5, info = 6 }

    public var severity: Severity
    public var time: Date
    public var hostname: String
    /// RFC 5424 MSGID: the event name.
    public var msgID: String
    /// RFC 5424 structured data under `custody@32473` (the documentation enterprise number).
    public var fields: [(String, String)]
    public var text: String

    public init(severity: Severity, time: Date, hostname: String, msgID: String, fields: [(String, String)], text: String) {
        self.severity = severity
        self.time = time
        self.hostname = hostname
        self.msgID = msgID
        self.fields = fields
        self.text = text
    }

    public func rendered(_ s: SyslogSettings, timeZone: TimeZone = .current) -> String {
        let pri = "<\((SyslogSettings.facilities[s.facility] ?? 4) * 8 + severity.rawValue)>"
        let text = String(self.text.map { $0 == "\n" || $0 == "\r" ? " " : $0 })
        switch s.format {
        case .rfc5424:
            let sd = fields.isEmpty ? "-" : "[custody@32473" + fields.map { " \(Self.name($0.0))=\"\(Self.escape($0.1))\"" }.joined() + "]"
            return "\(pri)1 \(Self.rfc3339(time)) \(Self.token(hostname, 255)) \(Self.token(s.appName, 48)) \(getpid()) "
                + "\(Self.token(msgID, 32)) \(sd) \(text)"
        case .rfc3164:
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = timeZone
            f.dateFormat = "MMM"
            let month = f.string(from: time)
            f.dateFormat = "d"
            let day = f.string(from: time)
            f.dateFormat = "HH:mm:ss"
            let tag = String(s.appName.filter { $0.isLetter || $0.isNumber }.prefix(32))
            return "\(pri)\(month) \(day.count == 1 ? " " + day : day) \(f.string(from: time)) \(Self.token(hostname, 255)) \(tag): \(text)"
        }
    }

    /// Printable ASCII without spaces, or "-".
    static func token(_ v: String, _ max: Int) -> String {
        let t = String(v.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.map(Character.init).prefix(max))
        return t.isEmpty ? "-" : t
    }

    static func name(_ v: String) -> String {
        String(v.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && !"=]\" ".unicodeScalars.contains($0) }.map(Character.init).prefix(32))
    }

    static func escape(_ v: String) -> String {
        var out = ""
        for c in v {
            if c == "\"" || c == "\\" || c == "]" { out.append("\\") }
            out.append(c == "\n" || c == "\r" ? " " : c)
        }
        return out
    }

    static func rfc3339(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        f.timeZone = TimeZone(identifier: "UTC")
        return f.string(from: date)
    }
}
