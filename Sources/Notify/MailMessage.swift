import Foundation

/// One plain-text email, rendered as RFC 5322 with CRLF line ends.
public struct MailMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var date: Date
    public var messageID: String
    /// Files sent with the text (a scheduled report's CSV), each base64 in its own MIME part.
    public var attachments: [MailAttachment]

    public init(from: String, to: [String], subject: String, body: String, date: Date, messageID: String, attachments: [MailAttachment] = []) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
        self.date = date
        self.messageID = messageID
        self.attachments = attachments
    }

    /// Headers and body; header values lose CR and LF, so no template can add a header. With
    /// attachments, a multipart/mixed message: the text first, then each file.
    public func rendered() -> String {
        var out = [
            "From: " + Self.header(from),
            "To: " + to.map(Self.header).joined(separator: ", "),
            "Subject: " + Self.encodedWord(Self.header(subject)),
            "Date: " + Self.rfc5322(date),
            "Message-ID: <" + Self.header(messageID) + ">",
            "MIME-Version: 1.0",
        ]
        guard !attachments.isEmpty else { return (out + Self.textPart(body)).joined(separator: "\r\n") + "\r\n" }
        let boundary = "custody-" + UUID().uuidString
        out += ["Content-Type: multipart/mixed; boundary=\"\(boundary)\"", "", "--" + boundary] + Self.textPart(body)
        for a in attachments {
            let name = a.safeName
            out += ["--" + boundary, "Content-Type: \(Self.header(a.contentType)); name=\"\(name)\"",
                "Content-Disposition: attachment; filename=\"\(name)\"", "Content-Transfer-Encoding: base64", ""]
            out += Self.base64Lines(a.data)
        }
        out.append("--" + boundary + "--")
        return out.joined(separator: "\r\n") + "\r\n"
    }

    /// The text's headers, a blank line and the text (7 bit when it can be, else base64).
    static func textPart(_ body: String) -> [String] {
        let lines = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .split(separator: "\n", omittingEmptySubsequences: false)
        let plain = body.utf8.allSatisfy { $0 < 0x80 } && lines.allSatisfy { $0.utf8.count <= 900 }
        let head = ["Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: " + (plain ? "7bit" : "base64"), ""]
        return head + (plain ? lines.map(String.init) : base64Lines(Data(lines.joined(separator: "\r\n").utf8)))
    }

    static func base64Lines(_ data: Data) -> [String] {
        let b64 = data.base64EncodedString()
        var out: [String] = []
        var i = b64.startIndex
        while i < b64.endIndex {
            let j = b64.index(i, offsetBy: 76, limitedBy: b64.endIndex) ?? b64.endIndex
            out.append(String(b64[i..<j]))
            i = j
        }
        return out
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

/// A file sent with a message.
public struct MailAttachment: Codable, Sendable, Equatable {
    public var name: String
    public var contentType: String
    public var data: Data

    public init(name: String, contentType: String, data: Data) {
        self.name = name
        self.contentType = contentType
        self.data = data
    }

    /// The name with only letters, digits, dot, dash and underscore: nothing to quote or inject.
    var safeName: String {
        let kept = String(name.unicodeScalars.map { c -> Character in
            c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._-".unicodeScalars.contains(c)) ? Character(c) : "_"
        }.prefix(100))
        return kept.isEmpty ? "attachment" : kept
    }
}
