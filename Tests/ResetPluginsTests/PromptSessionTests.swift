import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// A scripted peer: answers each line written with the next reply, in chunks.
final class ScriptedTransport: Transport, @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [[UInt8]]
    private var replies: [String]
    private(set) var written: [UInt8] = []

    init(greeting: [String], replies: [String] = []) {
        pending = greeting.map { Array($0.utf8) }
        self.replies = replies
    }

    func read(timeout: Double) async throws(ResetFailure) -> ReadResult {
        let next: [UInt8]? = lock.withLock { pending.isEmpty ? nil : pending.removeFirst() }
        if let next { return .data(next) }
        try? await Task.sleep(for: .milliseconds(Int(min(timeout, 0.05) * 1000)))
        return .timeout
    }

    func write(_ bytes: [UInt8]) async throws(ResetFailure) {
        lock.withLock {
            written += bytes
            if bytes.contains(10) || bytes.contains(13), !replies.isEmpty { pending.append(Array(replies.removeFirst().utf8)) }
        }
    }

    func close() async {}
    var writtenText: String { lock.withLock { String(decoding: written, as: UTF8.self) } }
}

@Suite struct PromptSessionTests {
    typealias P = PromptSession.Pattern

    @Test func promptsSplitAcrossReadsAndWrappedInEscapesStillMatch() async throws {
        let t = ScriptedTransport(greeting: ["\u{1B}[1;32mPass", "wo", "rd\u{1B}[0m: "])
        let s = PromptSession(transport: t, secrets: [], timeout: 2)
        let m = try await s.expect([P("pw", #"password:\s*$"#)], what: "a password prompt")
        #expect(m.name == "pw")
    }

    @Test func backspacesAreAppliedAndPagersAnswered() async throws {
        let t = ScriptedTransport(greeting: ["abcX\u{08}d\n", "line1\n--More--", "line2\nroot# "])
        let s = PromptSession(transport: t, secrets: [], timeout: 2)
        _ = try await s.expect([P("abcd", "^abcd$")], what: "abcd")
        _ = try await s.expect([P("shell", #"# $"#)], what: "the prompt")
        #expect(t.writtenText == " ")
    }

    /// Long output is dropped once matched; what follows still matches, skipped text is kept, and
    /// a match put back is seen again.
    @Test func longPagedOutputIsTrimmedWithoutLosingAMatch() async throws {
        let page = (0..<400).map { "interface GigabitEthernet0/\($0) is up\n" }.joined()
        let t = ScriptedTransport(greeting: [page + " --More-- ", page + " --More-- ", page + "sw1>"])
        let s = PromptSession(transport: t, secrets: [], timeout: 5)
        let m = try await s.expect([P("user", #"sw1>$"#)], what: "the prompt")
        #expect(m.skipped.components(separatedBy: "GigabitEthernet0/399").count == 3 && t.writtenText == "  ")
        s.unread(m)
        let again = try await s.expect([P("user", #"sw1>$"#)], what: "the prompt again")
        #expect(again.matched == "sw1>" && again.before.hasSuffix("GigabitEthernet0/399 is up\n"))
    }

    @Test func aMissingPromptTimesOutWithTheLastOutputRedacted() async throws {
        let secret = Secret("TopSecret-42")
        let t = ScriptedTransport(greeting: ["echo TopSecret-42\nwaiting"])
        let s = PromptSession(transport: t, secrets: [secret], timeout: 0.3)
        do {
            _ = try await s.expect([P("never", "never-there")], what: "a prompt that never comes")
            Issue.record("expected a timeout")
        } catch {
            #expect(error.code == .promptTimeout)
            #expect(!error.message.contains("TopSecret-42"))
        }
        try await s.sendSecret(secret)
        #expect(!s.transcript.contains("TopSecret-42"))
        #expect(t.writtenText == "TopSecret-42\n")
    }

    @Test func anEchoSplitAcrossReadsIsRedactedInTheTranscript() async throws {
        let secret = Secret("Split-Secret-42")
        let t = ScriptedTransport(greeting: ["username ops secret Split-Se", "cret-42\nrouter(config)# "])
        let s = PromptSession(transport: t, secrets: [secret], timeout: 2)
        _ = try await s.expect([P("config", #"\(config\)# $"#)], what: "the prompt")
        #expect(!s.transcript.contains("Split-Se") && s.transcript.contains("<redacted>"), "\(s.transcript)")
    }

    @Test func backspacesNeverEraseTextAlreadyMatched() async throws {
        let t = ScriptedTransport(greeting: ["first\n", "\u{08}\u{08}\u{08}second\n"])
        let s = PromptSession(transport: t, secrets: [], timeout: 2)
        _ = try await s.expect([P("first", "^first\n")], what: "first")
        let m = try await s.expect([P("second", "second\n")], what: "second")
        #expect(m.before.isEmpty)
    }

    @Test(arguments: ["Password:", "Passwort:", "Mot de passe :", "Contraseña:", "密码：", "口令：", "パスワード:", "Пароль:"])
    func localizedSuPromptsMatch(prompt: String) async throws {
        let t = ScriptedTransport(greeting: ["su - root\n" + prompt + " "])
        let s = PromptSession(transport: t, secrets: [], timeout: 2)
        #expect(try await s.expect([P("pw", UnixPrompts.suPassword)], what: "su").name == "pw")
    }

    @Test func telnetNegotiationAnswersTheUsualOptionsAndRefusesTheRest() {
        typealias B = TelnetTransport.Byte
        var n = TelnetNegotiator()
        let input: [UInt8] = [B.iac, B.will, B.echo, B.iac, B.doo, B.ttype, B.iac, B.doo, 39, 65, B.iac, B.iac, 66,
            B.iac, B.sb, B.ttype, 1, B.iac, B.se, B.iac, B.doo, B.naws, B.iac, B.will, 5]
        let (data, replies) = n.feed(input)
        #expect(data == [65, 255, 66])
        #expect(replies.starts(with: [B.iac, B.doo, B.echo, B.iac, B.will, B.ttype, B.iac, B.wont, 39]))
        #expect(Array(replies.suffix(3)) == [B.iac, B.dont, 5])
        #expect(String(decoding: replies, as: UTF8.self).contains("VT100"))
    }
}
