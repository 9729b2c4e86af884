import Foundation
import Shared

/// The prompt engine shared by SSH and telnet: regular-expression prompts matched over a buffer
/// that spans reads, with ANSI escapes and backspaces stripped, pagers answered, a timeout on
/// every expectation, and secrets kept out of the transcript.
public final class PromptSession {
    public struct Pattern: Sendable {
        public let name: String
        let regex: NSRegularExpression
        public init(_ name: String, _ pattern: String) {
            self.name = name
            // Patterns are ours or the admin's (validated on input), so a bad one is a programming error.
            self.regex = (try? NSRegularExpression(pattern: pattern, options: [.caseInsensitive, .anchorsMatchLines]))
                ?? (try! NSRegularExpression(pattern: "(?!)"))
        }
    }

    public struct Match: Sendable {
        public let name: String
        /// Cleaned text received before the match.
        public let before: String
        public let matched: String
    }

    let transport: any Transport
    let lineEnding: String
    let secrets: [Secret]
    let timeout: Double
    var pagers: [Pattern] = [
        Pattern("pager", #"--\s?more\s?--|press any key to continue|<--- more --->|-- more --"#)
    ]
    private var raw: [UInt8] = []
    private var consumed = 0
    public private(set) var transcript = ""

    public init(transport: any Transport, lineEnding: String = "\n", secrets: [Secret], timeout: Double = 15) {
        self.transport = transport
        self.lineEnding = lineEnding
        self.secrets = secrets
        self.timeout = timeout
    }

    /// Sends a command line (it goes to the transcript).
    public func send(_ line: String) async throws(ResetFailure) {
        transcript += "<< " + Secret.redact(line, secrets) + "\n"
        try await transport.write(Array((line + lineEnding).utf8))
    }

    /// Sends a secret as one line; the transcript shows `<redacted>`.
    public func sendSecret(_ secret: Secret) async throws(ResetFailure) {
        transcript += "<< <redacted>\n"
        try await transport.write(Array((secret.reveal() + lineEnding).utf8))
    }

    /// Sends `prefix` and a secret as one line (chpasswd's `user:password`); the transcript shows the prefix only.
    public func sendSecretLine(_ prefix: String, _ secret: Secret) async throws(ResetFailure) {
        transcript += "<< \(prefix)<redacted>\n"
        try await transport.write(Array((prefix + secret.reveal() + lineEnding).utf8))
    }

    /// Puts a match back, so the next `expect` sees it again.
    public func unread(_ match: Match) {
        consumed = max(0, consumed - match.before.count - match.matched.count)
    }

    /// Sends raw bytes without a line ending (e.g. Ctrl-D).
    public func sendRaw(_ bytes: [UInt8]) async throws(ResetFailure) {
        try await transport.write(bytes)
    }

    /// Waits for the first of `patterns` in what arrives; `promptTimeout` when none comes in time.
    public func expect(_ patterns: [Pattern], timeout: Double? = nil, what: String) async throws(ResetFailure) -> Match {
        let deadline = Date().addingTimeInterval(timeout ?? self.timeout)
        while true {
            let text = Self.clean(String(decoding: raw, as: UTF8.self))
            let pending = String(text.dropFirst(consumed))
            if let m = firstMatch(patterns, in: pending) {
                consumed += m.before.count + m.matched.count
                return m
            }
            if let pager = firstMatch(pagers, in: pending) {
                consumed += pager.before.count + pager.matched.count
                try await transport.write([0x20])
                continue
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw ResetFailure(.promptTimeout, "no \(what) within \(Int(timeout ?? self.timeout)) s; last output: \(tail(pending))")
            }
            switch try await transport.read(timeout: min(remaining, 1)) {
            case .data(let bytes):
                raw += bytes
                transcript += Secret.redact(Self.clean(String(decoding: bytes, as: UTF8.self)), secrets)
            case .timeout: continue
            case .closed:
                // Let what is buffered match once more, then give up.
                let final = String(Self.clean(String(decoding: raw, as: UTF8.self)).dropFirst(consumed))
                if let m = firstMatch(patterns, in: final) {
                    consumed += m.before.count + m.matched.count
                    return m
                }
                throw ResetFailure(.protocolError, "the connection closed while waiting for \(what); last output: \(tail(final))")
            }
        }
    }

    /// The last line or so of output, redacted, for error messages.
    func tail(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return Secret.redact(String(trimmed.suffix(160)), secrets)
    }

    private func firstMatch(_ patterns: [Pattern], in text: String) -> Match? {
        let ns = text as NSString
        var best: (Int, Match)?
        for p in patterns {
            guard let r = p.regex.firstMatch(in: text, range: NSRange(location: 0, length: ns.length)) else { continue }
            if best == nil || r.range.location < best!.0 {
                best = (r.range.location, Match(name: p.name, before: ns.substring(to: r.range.location), matched: ns.substring(with: r.range)))
            }
        }
        return best?.1
    }

    /// Strips ANSI escapes, applies backspaces and drops carriage returns.
    static func clean(_ text: String) -> String {
        var out: [Character] = []
        var it = Array(text).makeIterator()
        while let c = it.next() {
            switch c {
            case "\u{1B}":
                guard let n = it.next() else { break }
                if n == "[" {
                    while let x = it.next(), !(("@"..."~").contains(x)) {}
                } else if n == "]" {
                    while let x = it.next(), x != "\u{07}" {}
                }
            case "\u{08}", "\u{7F}":
                if !out.isEmpty { out.removeLast() }
            case "\r": continue
            case "\r\n": out.append("\n")
            case "\u{00}": continue
            default: out.append(c)
            }
        }
        return String(out)
    }
}
