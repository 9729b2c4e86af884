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
    private(set) var secrets: [Secret]
    let timeout: Double
    var pagers: [Pattern] = [
        Pattern("pager", #"--\s?more\s?--|press any key to continue|<--- more --->|-- more --"#)
    ]
    /// What was received so far, cleaned; `consumed` is a UTF-16 offset into it.
    private var text = ""
    private var consumed = 0
    private var terminal = TerminalText()
    private var skipped = ""
    private var log = ""
    /// The session as seen, with every secret of the job redacted (also across reads).
    public var transcript: String { Secret.redact(log, secrets) }

    /// The reset's new password and where it has gone: typing it is the moment it may reach the target.
    var newPassword: Secret?
    var exposure: ResetExposure?
    /// Unmatched text a target may send before the session fails (a flood never grows memory).
    public var maxBuffered = 1 << 20
    /// Seconds one pattern may take over the buffered text (a pathological pattern fails, never stalls).
    public var matchBudget = 0.25
    /// How far back a new scan starts, for a match that spans reads.
    static let overlap = 1024
    /// What is still read past the deadline before it counts.
    static let lateBytes = 64 * 1024
    /// The transcript keeps its last this many characters.
    static let maxLog = 256 * 1024

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
        try await typing(secret) { () throws(ResetFailure) in try await transport.write(Array((secret.reveal() + lineEnding).utf8)) }
    }

    /// Tells the exposure when `secret` is the reset's new password.
    private func typing(_ secret: Secret, _ body: () async throws(ResetFailure) -> Void) async throws(ResetFailure) {
        guard let exposure, secret == newPassword else { return try await body() }
        try exposure.willSend()
        exposure.markReached()
        try await body()
        try exposure.sent()
    }

    /// Binds the session to a reset job: its new password and exposure.
    public func track(_ job: ResetJob) {
        newPassword = job.newPassword
        exposure = job.exposure
        if let cap = job.settings.options["sessionBufferBytes"].flatMap(Int.init), (4096...(64 << 20)).contains(cap) { maxBuffered = cap }
    }

    /// Hands a kept session to the next job (a shared session): its exposure and a transcript of
    /// its own. Earlier jobs' secrets stay redacted (text they caused may still be buffered).
    public func rebind(_ job: ResetJob, tracksExposure: Bool = true) {
        secrets += job.secrets.filter { s in !secrets.contains(s) }
        log = ""
        if tracksExposure { track(job) }
    }

    /// Sends `prefix` and a secret as one line (chpasswd's `user:password`); the transcript shows the prefix only.
    public func sendSecretLine(_ prefix: String, _ secret: Secret) async throws(ResetFailure) {
        log += "<< \(prefix)<redacted>\n"
        try await typing(secret) { () throws(ResetFailure) in try await transport.write(Array((prefix + secret.reveal() + lineEnding).utf8)) }
    }

    /// Passes over everything received so far: the next `expect` looks only at what comes after.
    public func skipReceived() { consumed = text.utf16.count }

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
        // Text before `scanFrom` was searched with these patterns already (less an overlap for
        // a match that spans reads): each read scans only what is new.
        var scanFrom = consumed
        var received = 0
        var lastLook = false
        var late = 0
        while true {
            if let m = try await search(patterns, from: scanFrom) { return take(m) }
            if let pager = try await search(pagers, from: scanFrom) {
                consumed += pager.before.utf16.count + pager.matched.utf16.count
                skipped += pager.before
                trim(before: consumed)
                scanFrom = consumed
                try await transport.write([0x20])
                continue
            }
            if lastLook { throw timedOut(what, timeout) }
            if Task.isCancelled { throw ResetFailure(.unreachable, "cancelled while waiting for \(what)") }
            scanFrom = max(consumed, text.utf16.count - Self.overlap)
            // Past the deadline, what already arrived is still read and searched (a stalled process
            // does not time out on data that is waiting); a target that keeps sending then times out.
            let remaining = deadline.timeIntervalSinceNow
            switch try await transport.read(timeout: max(0, min(remaining, 1))) {
            case .data(let bytes):
                absorb(bytes)
                received += bytes.count
                if deadline.timeIntervalSinceNow <= 0 { late += bytes.count }
                lastLook = late > Self.lateBytes
                if received > maxBuffered || text.utf16.count - consumed > maxBuffered {
                    throw ResetFailure(.protocolError, "the target sent more than \(maxBuffered) bytes without \(what); last output: \(tail(pending))")
                }
            case .timeout:
                if deadline.timeIntervalSinceNow <= 0 { throw timedOut(what, timeout) }
            case .closed:
                // Let what is buffered match once more, then give up.
                absorb([], flush: true)
                if let m = try await search(patterns, from: scanFrom) { return take(m) }
                throw ResetFailure(.protocolError, "the connection closed while waiting for \(what); last output: \(tail(pending))")
            }
        }
    }

    private func timedOut(_ what: String, _ timeout: Double?) -> ResetFailure {
        ResetFailure(.promptTimeout, "no \(what) within \(Int(timeout ?? self.timeout)) s; last output: \(tail(pending))")
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

    /// Searches the text from `from` (what is new, plus an overlap) off the cooperative pool, each
    /// pattern within `matchBudget` seconds.
    private func search(_ patterns: [Pattern], from: Int) async throws(ResetFailure) -> Match? {
        let u = text.utf16
        let start = min(max(from, consumed), u.count)
        // One character before the window keeps `^` and look-behinds right at its start.
        var lead = start > 0 ? 1 : 0
        var window = String(u[u.index(u.startIndex, offsetBy: start - lead)...])
        if window == nil {
            lead = 0
            window = String(u[u.index(u.startIndex, offsetBy: start)...])
        }
        guard let window else { return nil }
        let (budget, from) = (matchBudget, lead)
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<(String, NSRange)?, ResetFailure>, Never>) in
            matcher.async { c.resume(returning: Self.firstMatch(patterns, in: window, from: from, budget: budget)) }
        }
        guard let (name, r) = try result.get() else { return nil }
        let at = start - lead + r.location
        let ns = window as NSString
        let beforeStart = u.index(u.startIndex, offsetBy: min(consumed, at))
        let before = String(u[beforeStart..<u.index(u.startIndex, offsetBy: at)]) ?? ""
        return Match(name: name, before: before, matched: ns.substring(with: r))
    }

    /// Each session matches on its own serial queue (overcommit: a thread of its own when busy), so
    /// a flooding target never delays another session's prompts.
    private let matcher = DispatchQueue(label: "custody.prompt-match")

    /// The earliest match in `text` at or after `from`: its pattern's name and range.
    static func firstMatch(_ patterns: [Pattern], in text: String, from: Int, budget: Double) -> Result<(String, NSRange)?, ResetFailure> {
        let length = text.utf16.count
        let range = NSRange(location: min(from, length), length: length - min(from, length))
        var best: (String, NSRange)?
        for p in patterns {
            let until = Date().addingTimeInterval(budget)
            var hit: NSRange?
            var over = false
            // reportProgress calls back during a long match, so a runaway pattern is stopped in time.
            p.regex.enumerateMatches(in: text, options: [.withTransparentBounds, .reportProgress], range: range) { r, _, stop in
                if let r {
                    hit = r.range
                    stop.pointee = true
                } else if Date() > until {
                    over = true
                    stop.pointee = true
                }
            }
            if over { return .failure(ResetFailure(.protocolError, "the prompt pattern '\(p.name)' took longer than \(Int(budget * 1000)) ms; simplify it")) }
            if let r = hit, best == nil || r.location < best!.1.location { best = (p.name, r) }
        }
        return .success(best)
    }

    /// Adds received bytes, cleaned; backspaces never erase text already matched.
    private func absorb(_ bytes: [UInt8], flush: Bool = false) {
        let cleaned = terminal.decode(bytes, flush: flush)
        log += cleaned.replacingOccurrences(of: "\u{08}", with: "")
        if log.utf8.count > Self.maxLog {
            // Cut at a line end, so no secret is left half in the transcript.
            let cut = log.index(log.endIndex, offsetBy: -Self.maxLog / 2)
            log = String(log[(log[cut...].firstIndex(of: "\n") ?? cut)...])
        }
        for c in cleaned {
            if c == "\u{08}" {
                if let last = text.last, text.utf16.count - last.utf16.count >= consumed { text.removeLast() }
            } else {
                text.append(c)
            }
        }
    }
}
