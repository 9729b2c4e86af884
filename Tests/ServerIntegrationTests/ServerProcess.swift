import Foundation
import Testing

@testable import ServerTestSupport
import TestSupport

/// The real `custody` binary, started on a temporary data directory and stopped by the test.
final class ServerProcess: @unchecked Sendable {
    private let args: [String]
    private let env: [String: String?]
    private(set) var process: Child!
    let dataDir: String
    let stdoutPath: String
    let stderrPath: String
    private(set) var port = 0
    private(set) var initialPassword = ""

    static var binary: String {
        if let env = ProcessInfo.processInfo.environment["CUSTODY_BIN"] { return env }
        let dir = Bundle.main.executableURL?.deletingLastPathComponent() ?? URL(fileURLWithPath: ".build/debug")
        for candidate in [dir, dir.deletingLastPathComponent()] {
            let path = candidate.appendingPathComponent("custody").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return ".build/debug/custody"
    }

    init(dataDir: String? = nil, extraArgs: [String] = [], env: [String: String?] = [:]) {
        self.env = env
        self.dataDir = dataDir ?? TestTargets.scratchURL.appendingPathComponent("custody-live-\(UUID().uuidString)").path
        stdoutPath = self.dataDir + ".stdout"
        stderrPath = self.dataDir + ".stderr"
        args = ["serve", "--data-dir", self.dataDir, "--host", "127.0.0.1", "--port", "0"] + extraArgs
    }

    /// Starts the server and waits (bounded) for `listening on`. Returns false if it exited instead.
    func start(timeout: Double = 30) throws -> Bool {
        FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = try Child(Self.binary, args, env: ["CUSTODY_CONFIG": nil, "CUSTODY_PORT": nil].merging(env) { $1 }, stdout: stdoutPath,
            stderr: stderrPath)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let out = stdout
            if let line = out.split(separator: "\n").first(where: { $0.hasPrefix("listening on https://") }),
                let p = Int(line.split(separator: ":").last ?? "")
            {
                port = p
                if let pw = out.split(separator: "\n").first(where: { $0.hasPrefix("initial admin password: ") }) {
                    initialPassword = String(pw.dropFirst("initial admin password: ".count))
                }
                return true
            }
            if !process.isRunning { return false }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var url: String { "https://localhost:\(port)" }
    var caFile: String { dataDir + "/tls/server.crt" }

    /// SIGTERM, then a bounded wait; SIGKILL if it does not stop.
    @discardableResult
    func stop(timeout: Double = 15) -> Int32? {
        guard let process else { return nil }
        guard process.isRunning else { return process.terminationStatus }
        process.terminate()
        if let status = process.wait(timeout: timeout) { return status }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return nil
    }
}
