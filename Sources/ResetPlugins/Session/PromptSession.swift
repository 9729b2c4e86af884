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
        /// Text that came before pagers answered while waiting (not part of `before`).
        public var skipped: String = ""
    }

    let transport: any Transport
    let lineEnding: String
    let secrets: [Secret]
    let timeout: Double
    var pagers: [Pattern] = [
        Pattern("pager", #"--\s?more\s?--|press any key to continue|<--- more --->|-- more --"#)
    ]
    /// What was received so far, cleaned; `consumed` is a UTF-16 offset into it.
    private var text = ""
    private var consumed = 0
    /// Bytes held back: an unfinished escape sequence or UTF-8 character.
    private var carry: [UInt8] = []
    private var skipped = ""
    private var log = ""
    /// The session as seen, with every secret of the job redacted (also across reads).
    public var transcript: String { Secret.redact(log, secrets) }

    public init(transport: any Transport, lineEnding: String = "\n", secrets: [Secret], timeout: Double = 15) {
        self.transport = transport
        self.lineEnding = lineEnding
        self.secrets = secrets
        self.timeout = timeout
    }

    /// Sends a command line (it goes to the transcript).
    public func send(_ line: String) async throws(ResetFailure) {
        log += "<< " + Secret.redact(line, secrets) + "\n"
        try await transport.write(Array((line + lineEnding).utf8))
    }

    /// Sends a secret as one line; the transcript shows `<redacted>`.
    public func sendSecret(_ secret: Secret) async throws(ResetFailure) {
        log += "<< <redacted>\n"
        try await transport.write(Array((secret.reveal() + lineEnding).utf8))
    }

    /// Sends `prefix` and a secret as one line (chpasswd's `user:password`); the transcript shows the prefix only.
    public func sendSecretLine(_ prefix: String, _ secret: Secret) async throws(ResetFailure) {
        log += "<< \(prefix)<redacted>\n"
        try await transport.write(Array((prefix + secret.reveal() + lineEnding).utf8))
    }

    /// Puts a match back, so the next `expect` sees it again.
    public func unread(_ match: Match) {
        consumed = max(0, consumed - match.before.utf16.count - match.matched.utf16.count)
    }

    /// Sends raw bytes without a line ending (e.g. Ctrl-D).
    public func sendRaw(_ bytes: [UInt8]) async throws(ResetFailure) {
        try await transport.write(bytes)
    }

    /// Waits for the first of `patterns` in what arrives; `promptTimeout` when none comes in time.
    /// `^` also matches where the previous match ended (a marker printed right after an unechoed answer).
    public func expect(_ patterns: [Pattern], timeout: Double? = nil, what: String) async throws(ResetFailure) -> Match {
        let deadline = Date().addingTimeInterval(timeout ?? self.timeout)
        while true {
            if let m = firstMatch(patterns) { return take(m) }
            if let pager = firstMatch(pagers) {
                consumed += pager.before.utf16.count + pager.matched.utf16.count
                skipped += pager.before
                trim(before: consumed)
                try await transport.write([0x20])
                continue
            }
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 {
                throw ResetFailure(.promptTimeout, "no \(what) within \(Int(timeout ?? self.timeout)) s; last output: \(tail(pending))")
            }
            switch try await transport.read(timeout: min(remaining, 1)) {
            case .data(let bytes): absorb(bytes)
            case .timeout: continue
            case .closed:
                // Let what is buffered match once more, then give up.
                absorb([], flush: true)
                if let m = firstMatch(patterns) { return take(m) }
                throw ResetFailure(.protocolError, "the connection closed while waiting for \(what); last output: \(tail(pending))")
            }
        }
    }

    private var pending: String { (text as NSString).substring(from: min(consumed, text.utf16.count)) }

    private func take(_ m: Match) -> Match {
        trim(before: consumed)
        consumed += m.before.utf16.count + m.matched.utf16.count
        var out = m
        out.skipped = skipped
        skipped = ""
        return out
    }

    /// Drops the text before `offset` once it is long, so each `expect` scans only what is new
    /// (a paged banner is not scanned again and again). `unread` goes back at most to `offset`.
    private func trim(before offset: Int) {
        guard offset > 4096 else { return }
        text = (text as NSString).substring(from: offset)
        consumed -= offset
    }

    /// The last line or so of output, redacted, for error messages.
    func tail(_ text: String) -> String {
        let trimmed = Secret.redact(text, secrets).trimmingCharacters(in: .whitespacesAndNewlines)
        return String(trimmed.suffix(160))
    }

    private func firstMatch(_ patterns: [Pattern]) -> Match? {
        let ns = text as NSString
        let range = NSRange(location: min(consumed, ns.length), length: ns.length - min(consumed, ns.length))
        var best: (Int, Match)?
        for p in patterns {
            guard let r = p.regex.firstMatch(in: text, options: [.withTransparentBounds], range: range) else { continue }
            if best == nil || r.range.location < best!.0 {
                let before = ns.substring(with: NSRange(location: range.location, length: r.range.location - range.location))
                best = (r.range.location, Match(name: p.name, before: before, matched: ns.substring(with: r.range)))
            }
        }
        return best?.1
    }

    /// Adds received bytes, cleaned. An unfinished escape sequence or UTF-8 character waits for the
    /// next read; backspaces never erase text already matched.
    private func absorb(_ bytes: [UInt8], flush: Bool = false) {
        var data = carry + bytes
        carry = []
        if !flush {
            if let esc = data.lastIndex(of: 0x1B), !Self.escapeComplete(data[esc...]) {
                carry = Array(data[esc...])
                data.removeSubrange(esc...)
            }
            var i = data.count - 1
            while i >= 0, data.count - i <= 4, data[i] & 0xC0 == 0x80 { i -= 1 }
            if i >= 0, data[i] >= 0xC0 {
                let need = data[i] >= 0xF0 ? 4 : data[i] >= 0xE0 ? 3 : 2
                if data.count - i < need {
                    carry = Array(data[i...]) + carry
                    data.removeSubrange(i...)
                }
            }
        }
        let cleaned = Self.clean(String(decoding: data, as: UTF8.self))
        log += cleaned.replacingOccurrences(of: "\u{08}", with: "")
        for c in cleaned {
            if c == "\u{08}" {
                if let last = text.last, text.utf16.count - last.utf16.count >= consumed { text.removeLast() }
            } else {
                text.append(c)
            }
        }
    }

    /// Whether the escape sequence starting at `seq` (ESC ...) is complete.
    static func escapeComplete(_ seq: ArraySlice<UInt8>) -> Bool {
        let b = Array(seq)
        guard b.count >= 2 else { return false }
        switch b[1] {
        case UInt8(ascii: "["): return b.dropFirst(2).contains { (0x40...0x7E).contains($0) }
        case UInt8(ascii: "]"): return b.contains(0x07)
        default: return true
        }
    }

    /// Strips ANSI escapes and drops carriage returns; backspaces and DEL come out as `\u{08}`
    /// for `absorb` to apply.
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
            case "\u{08}", "\u{7F}": out.append("\u{08}")
            case "\r": continue
            case "\r\n": out.append("\n")
            case "\u{00}": continue
            default: out.append(c)
            }
        }
        return String(out)
    }
}
