import Foundation
import NIOCore
import Shared

/// One SMTP command/reply exchange at a time. Replies may span lines (`250-…`, then `250 …`).
struct SMTPConversation {
    var lines: NIOAsyncChannelInboundStream<String>.AsyncIterator
    let out: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// The reply's text lines; an unexpected code is an error naming `after`.
    mutating func reply(expect: Set<Int>, after: String) async throws -> [String] {
        var text: [String] = []
        while true {
            guard let line = try await lines.next() else {
                throw NotifyError(.protocolError, "the server closed the connection after \(after)")
            }
            let code = Int(line.prefix(3))
            guard let code, line.count == 3 || [" ", "-"].contains(line.dropFirst(3).first) else {
                throw NotifyError(.protocolError, "not an SMTP reply after \(after): \(line.prefix(200))")
            }
            text.append(String(line.dropFirst(4)))
            if line.dropFirst(3).first == "-" { continue }
            guard expect.contains(code) else {
                let kind: NotifyError.Code = after.hasPrefix("AUTH") || code == 535 ? .authentication : .rejected
                throw NotifyError(kind, "\(after): \(code) \(text.joined(separator: " ").prefix(300))")
            }
            return text
        }
    }

    mutating func command(_ line: String, expect: Set<Int>) async throws -> [String] {
        try await send(line + "\r\n", expect: expect, shown: String(line.prefix(60)))
    }

    /// `shown` names the command in errors instead of the bytes sent, which may hold a password.
    mutating func send(_ text: String, expect: Set<Int>, shown: String) async throws -> [String] {
        try await out.write(ByteBuffer(string: text))
        return try await reply(expect: expect, after: shown)
    }

    mutating func authenticate(_ user: String, _ password: Secret, _ features: [String]) async throws {
        let mechanisms = features.first { $0.uppercased().hasPrefix("AUTH ") || $0.uppercased().hasPrefix("AUTH=") }
            .map { $0.dropFirst(5).uppercased().split(separator: " ").map(String.init) } ?? []
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        if mechanisms.contains("PLAIN") {
            _ = try await send("AUTH PLAIN " + b64("\0\(user)\0\(password.reveal())") + "\r\n", expect: [235], shown: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            _ = try await send("AUTH LOGIN\r\n", expect: [334], shown: "AUTH LOGIN")
            _ = try await send(b64(user) + "\r\n", expect: [334], shown: "AUTH LOGIN (user name)")
            _ = try await send(b64(password.reveal()) + "\r\n", expect: [235], shown: "AUTH LOGIN (password)")
        } else {
            throw NotifyError(.authentication, "the server offers no AUTH PLAIN or LOGIN (it offers: \(mechanisms.joined(separator: " ")))")
        }
    }
}
