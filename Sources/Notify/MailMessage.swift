import Foundation

/// One plain-text email, rendered as RFC 5322 with CRLF line ends.
public struct MailMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var date: Date
    public var messageID: String

    public init(from: String, to: [String], subject: String, body: String, date: Date, messageID: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
    }

    /// Headers and body; header values lose CR and LF, so no template can add a header.
    public func rendered() -> String {
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        let plain = body.utf8.allSatisfy { $0 < 0x80 } && lines.allSatisfy { $0.utf8.count <= 900 }
        var out = [
            "From: " + Self.header(from),
            "To: " + to.map(Self.header).joined(separator: ", "),
            "Subject: " + Self.encodedWord(Self.header(subject)),
            "Date: " + Self.rfc5322(date),
            "Message-ID: <" + Self.header(messageID) + ">",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: " + (plain ? "7bit" : "base64"),
            "",
        ]
        if plain {
            out += lines.map(String.init)
        } else {
            let b64 = Data(lines.joined(separator: "\r\n").utf8).base64EncodedString()
            var i = b64.startIndex
            while i < b64.endIndex {
                let j = b64.index(i, offsetBy: 76, limitedBy: b64.endIndex) ?? b64.endIndex
                out.append(String(b64[i..<j]))
                i = j
            }
        }
        return out.joined(separator: "\r\n") + "\r\n"
    }

    static func header(_ value: String) -> String {
        String(value.map { $0 == "\r" || $0 == "\n" ? " " : $0 })
    }

    /// RFC 2047 `=?UTF-8?B?…?=` words of at most 45 bytes each, for a non-ASCII subject.
    static func encodedWord(_ value: String) -> String {
        guard !value.utf8.allSatisfy({ $0 < 0x80 }) else { return value }
        var words: [String] = []
        var chunk = ""
        for c in value {
            if chunk.utf8.count + String(c).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(c)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?UTF-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    static func rfc5322(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
