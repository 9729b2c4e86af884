import Foundation

/// A child process started with posix_spawn: output to files, an optional stdin text, and a
/// status reaped with waitpid. Replaces Foundation's Process in the tests, whose concurrent
/// launches crashed a test run.
public final class Child: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var status: Int32?

    /// Starts `path` with `args`; stdout and stderr append to the files (created if missing).
    public init(_ path: String, _ args: [String], env: [String: String?] = [:], stdout: String, stderr: String,
        stdin: String? = nil) throws
    {
        for file in [stdout, stderr] where !FileManager.default.fileExists(atPath: file) {
            FileManager.default.createFile(atPath: file, contents: nil)
        }
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        let cargs = ([path] + args).map { strdup($0) } + [nil]
        let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cargs + cenv).forEach { free($0) } }
        var inPipe: [Int32] = [-1, -1]
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var pid: pid_t = 0
        let rc: Int32 = Spawn.spawnLock.withLock {
            if stdin != nil {
                pipe(&inPipe)
                for fd in inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_APPEND, 0)
            posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_APPEND, 0)
            return posix_spawn(&pid, path, &actions, nil, cargs, cenv)
        }
        if stdin != nil { close(inPipe[0]) }
        guard rc == 0 else {
            if stdin != nil { close(inPipe[1]) }
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL)
        }
        processIdentifier = pid
        if let stdin {
            // A child that exits without reading must not kill the tests with SIGPIPE.
            signal(SIGPIPE, SIG_IGN)
            _ = stdin.withCString { write(inPipe[1], $0, strlen($0)) }
            close(inPipe[1])
        }
    }

    /// Reaps the child without waiting; true while it runs.
    public var isRunning: Bool { reap(WNOHANG) == nil }

    /// The exit code, or 128 + the signal; -1 while it runs.
    public var terminationStatus: Int32 { reap(WNOHANG) ?? -1 }

    public func terminate() { if isRunning { kill(processIdentifier, SIGTERM) } }

    public func waitUntilExit() { _ = reap(0) }

    /// Waits at most `timeout` seconds; returns the status, or nil if it still runs.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let s = reap(WNOHANG) { return s }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return reap(WNOHANG)
    }

    private func reap(_ options: Int32) -> Int32? {
        lock.withLock {
            if let status { return status }
            var raw: Int32 = 0
            let r = waitpid(processIdentifier, &raw, options)
            guard r == processIdentifier else { return r < 0 ? -1 : nil }
            status = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            return status
        }
    }

    deinit { if isRunning { kill(processIdentifier, SIGKILL); waitUntilExit() } }
}
