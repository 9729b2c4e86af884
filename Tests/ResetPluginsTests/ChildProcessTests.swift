import Foundation
import Processes
import TestSupport
import Testing

@testable import ResetPlugins

/// The process runner behind listeners and custom plugins: what goes in, what comes out, and
/// that a runaway program (and what it started) is killed.
@Suite struct ChildProcessTests {
    let dir = NSTemporaryDirectory()

    func run(_ script: String, stdin: String = "", env: [String: String] = [:], timeout: Double = 10, limit: Int = 64 * 1024)
        async throws -> ChildProcess.Result
    {
        let request = ChildProcess.Request(argv: ["/bin/sh", "-c", script], environment: ["PATH": "/usr/bin:/bin"].merging(env) { $1 },
            workingDirectory: dir, stdin: Array(stdin.utf8), timeout: timeout, outputLimit: limit)
        return try await ChildProcess.run(request)
    }

    @Test func stdinStdoutStderrAndExitCode() async throws {
        let r = try await run("cat; echo oops >&2; exit 3", stdin: "hello\nworld")
        #expect(String(decoding: r.stdout, as: UTF8.self) == "hello\nworld")
        #expect(String(decoding: r.stderr, as: UTF8.self) == "oops\n")
        #expect(r.exitCode == 3 && r.signal == nil && !r.timedOut && !r.oversized)
    }

    @Test func onlyTheGivenEnvironmentAndDirectory() async throws {
        let r = try await run("env | sort; pwd", env: ["ONLY": "this"])
        let lines = String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.contains("ONLY=this") && lines.contains("PATH=/usr/bin:/bin"))
        #expect(!lines.contains { $0.hasPrefix("HOME=") || $0.hasPrefix("CUSTODY") })
        #expect(lines.last.map { URL(fileURLWithPath: $0).standardized.path } == URL(fileURLWithPath: dir).standardized.path)
    }

    @Test func timeoutKillsTheWholeGroup() async throws {
        let marker = dir + "/grandchild-\(UUID().uuidString)"
        let start = Date()
        let r = try await run("(sleep 3; touch \(marker)) & sleep 600", timeout: 0.5)
        #expect(r.timedOut && r.signal == SIGKILL)
        // Far below the 600 s sleep, with room for a crowded test run.
        #expect(Date().timeIntervalSince(start) < 300, "the runner did not wait for the sleep")
        // A grandchild that outlived the kill shows its marker in its command line until it touches it.
        let gone = await eventually(seconds: 30, every: .milliseconds(100)) {
            Spawn.run(["/usr/bin/pgrep", "-f", marker]).status == 1
        }
        #expect(gone && !FileManager.default.fileExists(atPath: marker), "a grandchild outlived the kill")
    }

    @Test func outputBeyondTheLimitIsCutAndKilled() async throws {
        let r = try await run("yes custody", limit: 10_000)
        #expect(r.oversized && !r.timedOut && r.stdout.count <= 10_000)
    }

    @Test func crashesReportTheSignal() async throws {
        let r = try await run("kill -SEGV $$")
        #expect(r.signal == SIGSEGV && r.exitCode == nil)
    }

    @Test func aProgramThatIgnoresStdinDoesNotHang() async throws {
        let r = try await run("exit 0", stdin: String(repeating: "x", count: 1 << 20))
        #expect(r.exitCode == 0 && !r.timedOut)
    }

    @Test func missingProgramIsAStartError() async throws {
        let request = ChildProcess.Request(argv: ["no-such-program-custody"], environment: ["PATH": "/usr/bin"], workingDirectory: dir)
        await #expect(throws: ChildProcess.StartError.self) { try await ChildProcess.run(request) }
    }

    @Test func theProgramInheritsNoDescriptorOfTheServer() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)  // inheritable on purpose: the child must still not get it
        defer { fds.forEach { close($0) } }
        let r = try await run("ls /proc/$$/fd")
        let open = Set(String(decoding: r.stdout, as: UTF8.self).split(separator: "\n").map(String.init))
        #expect(open.isSubset(of: ["0", "1", "2"]), "the program inherited \(open.sorted())")
    }
}
