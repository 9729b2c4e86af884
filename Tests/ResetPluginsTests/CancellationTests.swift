import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// A cancelled reset stops at once: its `SerialOwner` shuts the socket down, so the step blocked
/// in C returns instead of waiting out its timeout (300 s here), and says it was cancelled. The
/// bound is loose: a loaded CI machine can stall the whole test process for tens of seconds.
@Suite(.needsTestTargets) struct CancellationTests {
    typealias T = TestTargets
    static let never = [PromptSession.Pattern("never", "a prompt no target prints 7c1e")]

    /// Starts `body`, cancels it after 300 ms and returns its failure and how long it ran.
    func cancelled(_ body: @escaping @Sendable () async throws(ResetFailure) -> Void) async -> (ResetFailure?, Duration) {
        let start = ContinuousClock.now
        let task = Task { () -> ResetFailure? in
            do throws(ResetFailure) { try await body(); return nil } catch { return error }
        }
        try? await Task.sleep(for: .milliseconds(300))
        task.cancel()
        return (await task.value, ContinuousClock.now - start)
    }

    @Test func aPromptAwaitedOverSSHEndsWhenTheResetIsCancelled() async throws {
        let user = T.target("cancel1", password: "Cancel-Pass-1")
        var o = SSHConnection.Options(host: "127.0.0.1", port: T.sshPort)
        o.stepTimeout = 300
        let ssh = try await SSHConnection.connect(o)
        try await ssh.authenticate(user: user, .password(Secret("Cancel-Pass-1")))
        try await ssh.openShell()
        let (failure, took) = await cancelled { () throws(ResetFailure) in
            _ = try await PromptSession(transport: ssh, secrets: [], timeout: 300).expect(Self.never, what: "a prompt")
        }
        await ssh.close()
        #expect(failure?.code == .unreachable && failure?.message.hasPrefix("cancelled") == true, "\(String(describing: failure))")
        #expect(took < .seconds(100), "not the 300 s step: \(took)")
    }

    @Test func aPromptAwaitedOverTelnetEndsWhenTheResetIsCancelled() async throws {
        #expect(T.telnetAvailable, "telnetd must run for this suite")
        let telnet = try await TelnetTransport.connect(host: "127.0.0.1", port: T.telnetPort, timeout: 10)
        let (failure, took) = await cancelled { () throws(ResetFailure) in
            _ = try await PromptSession(transport: telnet, lineEnding: "\r\n", secrets: [], timeout: 300).expect(Self.never, what: "a prompt")
        }
        await telnet.close()
        #expect(failure?.code == .unreachable && failure?.message.hasPrefix("cancelled") == true, "\(String(describing: failure))")
        #expect(took < .seconds(100), "not the 300 s step: \(took)")
    }

    @Test func anSSHHandshakeWithATargetThatNeverAnswersEndsWhenCancelled() async throws {
        let tarpit = try Tarpit()
        var o = SSHConnection.Options(host: "127.0.0.1", port: tarpit.port)
        o.stepTimeout = 300
        let options = o
        let (failure, took) = await cancelled { () throws(ResetFailure) in _ = try await SSHConnection.connect(options) }
        #expect(failure?.code == .unreachable && failure?.message.hasPrefix("cancelled") == true, "\(String(describing: failure))")
        #expect(took < .seconds(100), "not the 300 s step: \(took)")
        #expect(tarpit.accepted(), "the handshake reached the target")
    }
}

/// A TCP listener on 127.0.0.1 whose connections are accepted by the kernel and never answered.
final class Tarpit: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw ResetFailure(.unreachable, "cannot listen") }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Whether a connection is waiting in the backlog (it is then taken and dropped).
    func accepted() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        let c = accept(fd, nil, nil)
        if c >= 0 { close(c) }
        return c >= 0
    }

    deinit { close(fd) }
}
