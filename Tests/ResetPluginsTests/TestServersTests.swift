import Foundation
import Testing
import TestSupport

/// The plugin suites skip when their server is missing; as root (as `make test` runs) a missing
/// server is a failure here instead of a silent skip.
@Suite struct TestServersTests {
    @Test func everyTestServerStartsWhenRunAsRoot() {
        guard getuid() == 0 else { return }
        #expect(TestTargets.ready.available, "sshd: \(TestTargets.ready.why)")
        #expect(LDAPServer.available, "slapd did not start (\(LDAPServer.dir))")
        #expect(MariaDBServer.available, "mariadbd did not start (\(MariaDBServer.dir))")
        #expect(PostgresServer.available, "PostgreSQL did not start (\(PostgresServer.dir))")
    }

    /// A server the tests start can be stopped: it does not inherit the test process's blocked
    /// signals (slapd kept SIGTERM blocked and outlived every run).
    @Test func aBackgroundServerCanBeStoppedWithSIGTERM() throws {
        let pid = Spawn.background(["/bin/sleep", "60"])
        try #require(pid > 0)
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let blocked = status.split(separator: "\n").first { $0.hasPrefix("SigBlk:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
        #expect(blocked.map { $0 & (1 << (UInt64(SIGTERM) - 1)) == 0 } == true, "SigBlk \(String(describing: blocked))")
        kill(pid, SIGTERM)
        var code: Int32 = 0
        var ended = false
        for _ in 0..<50 where !ended {
            ended = waitpid(pid, &code, WNOHANG) == pid
            if !ended { usleep(100_000) }
        }
        if !ended { kill(pid, SIGKILL); _ = waitpid(pid, &code, 0) }
        #expect(ended, "SIGTERM did not stop the child within 5 s")
    }
}
