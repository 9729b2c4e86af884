import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// A target must not be able to hurt the server: floods, endless escapes, endless
/// subnegotiations and pathological prompt patterns end in a bounded failure.
@Suite struct HostileTargetTests {
    typealias P = PromptSession.Pattern

    /// Sends `chunk` for ever and never a prompt.
    final class Flood: Transport, @unchecked Sendable {
        let chunk: [UInt8]
        private let lock = NSLock()
        private var sent = 0
        init(_ chunk: [UInt8]) { self.chunk = chunk }
        var bytesSent: Int { lock.withLock { sent } }
        func read(timeout: Double) async throws(ResetFailure) -> ReadResult {
            lock.withLock { sent += chunk.count }
            return .data(chunk)
        }
        func write(_ bytes: [UInt8]) async throws(ResetFailure) {}
        func close() async {}
    }

    enum FloodKind: String, CaseIterable, Sendable { case text, endlessEscape }

    @Test(arguments: FloodKind.allCases)
    func aFloodWithoutAPromptFailsAtTheBufferCap(kind: FloodKind) async {
        let chunk: [UInt8] = kind == .text ? Array(String(repeating: "no prompt here, ", count: 64).utf8)
            : [0x1B, UInt8(ascii: "[")] + Array(repeating: UInt8(ascii: "1"), count: 4000)
        let flood = Flood(chunk)
        // The cap, not the clock, must end it: a crowded test run may take minutes to read 256 KiB.
        let s = PromptSession(transport: flood, secrets: [], timeout: 900)
        s.maxBuffered = 256 * 1024
        do {
            _ = try await s.expect([P("shell", #"\$ $"#)], what: "the shell")
            Issue.record("a flood matched")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("more than 262144 bytes"), "\(error)")
        }
        #expect(flood.bytesSent < 2 * 256 * 1024 + 8192, "it stopped reading soon after the cap: \(flood.bytesSent)")
        #expect(s.transcript.utf8.count <= PromptSession.maxLog + 8192, "the transcript is bounded too")
    }

    @Test func aPathologicalPatternRunsOutOfItsBudgetInsteadOfStallingTheServer() async {
        let t = ScriptedTransport(greeting: [String(repeating: "a", count: 60) + "!"])
        let s = PromptSession(transport: t, secrets: [], timeout: 120)
        s.matchBudget = 0.2
        do {
            _ = try await s.expect([P("evil", "(a+)+$")], what: "the prompt")
            Issue.record("matched")
        } catch {
            #expect(error.code == .protocolError && error.message.contains("took longer than 200 ms"), "\(error)")
        }
    }

    @Test func anEndlessSubnegotiationIsCapped() {
        typealias B = TelnetTransport.Byte
        var n = TelnetNegotiator()
        let (data, replies) = n.feed([B.iac, B.sb, B.ttype, 1] + Array(repeating: 7, count: 1_000_000))
        #expect(data.isEmpty && replies.isEmpty)
        // The negotiator still works afterwards and never held more than its cap.
        let (after, answer) = n.feed([B.iac, B.se, 65, B.iac, B.sb, B.ttype, 1, B.iac, B.se])
        #expect(after == [65])
        #expect(String(decoding: answer, as: UTF8.self).contains("VT100"))
        #expect(n.subnegotiationBytes <= TelnetNegotiator.maxSubnegotiation)
    }
}
