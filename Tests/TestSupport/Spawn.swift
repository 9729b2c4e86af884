import Foundation

/// posix_spawn and waitpid, without Foundation's Process (whose waiting needs a run loop that a
/// static initializer or a test thread may not have).
public enum Spawn {
    /// Held around every process launch in the tests (posix_spawn here, Foundation's Process in
    /// ServerProcess): concurrent launches through Foundation's Process have crashed the test run.
    public static let spawnLock = NSLock()

    /// Runs to completion (at most `timeout` seconds, then killed: status 124) and returns the exit
    /// status and standard output.
    @discardableResult
    public static func run(_ argv: [String], stdin: String? = nil, env: [String: String] = [:], timeout: Double = 180) -> (status: Int32, out: String) {
        var inPipe: [Int32] = [0, 0]
        var outPipe: [Int32] = [0, 0]
        // Close-on-exec, set under the spawn lock: a concurrent spawn must never inherit these pipes.
        spawnLock.lock()
        pipe(&inPipe)
        pipe(&outPipe)
        for fd in [inPipe[0], inPipe[1], outPipe[0], outPipe[1]] { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        for fd in [inPipe[0], inPipe[1], outPipe[0], outPipe[1]] { posix_spawn_file_actions_addclose(&actions, fd) }
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        var environment = ProcessInfo.processInfo.environment
        environment.merge(env) { $1 }
        let cenv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { cenv.forEach { free($0) } }
        let rc = withUnblockedSignals { posix_spawn(&pid, argv[0], &actions, &$0, cargs, cenv) }
        spawnLock.unlock()
        posix_spawn_file_actions_destroy(&actions)
        close(inPipe[0])
        close(outPipe[1])
        if rc != 0 {
            close(inPipe[1])
            close(outPipe[0])
            return (-1, "")
        }
        if let stdin { _ = stdin.withCString { write(inPipe[1], $0, strlen($0)) } }
        close(inPipe[1])
        // Read until the child ends (what a background grandchild keeps open is not waited for), or
        // until the deadline, when the child is killed: a stuck command fails its test, never hangs the run.
        _ = fcntl(outPipe[0], F_SETFL, fcntl(outPipe[0], F_GETFL) | O_NONBLOCK)
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0
        var ended = false
        var timedOut = false
        while true {
            var fd = pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 50)
            var eof = false
            while true {
                let n = read(outPipe[0], &buf, 4096)
                if n > 0 { out += buf[0..<n]; continue }
                eof = n == 0
                break
            }
            if !ended, waitpid(pid, &status, WNOHANG) == pid { ended = true }
            if eof || ended { break }
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                ended = true
                timedOut = true
                break
            }
        }
        while !timedOut {  // what the child wrote just before it ended
            let n = read(outPipe[0], &buf, 4096)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        close(outPipe[0])
        while !ended {  // its output closed; it still has until the deadline to end
            if waitpid(pid, &status, WNOHANG) == pid { ended = true; break }
            if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); timedOut = true; break }
            usleep(20_000)
        }
        if timedOut {
            FileHandle.standardError.write(Data("Spawn.run: \(argv.prefix(3).joined(separator: " ")) … killed after \(Int(timeout)) s\n".utf8))
            return (124, String(decoding: out, as: UTF8.self))
        }
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, String(decoding: out, as: UTF8.self))
    }

    /// Starts a long-running child with its output discarded; returns its pid.
    public static func background(_ argv: [String]) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0
        let cargs = argv.map { strdup($0) } + [nil]
        defer { cargs.forEach { free($0) } }
        spawnLock.withLock { _ = withUnblockedSignals { posix_spawn(&pid, argv[0], &actions, &$0, cargs, environ) } }
        posix_spawn_file_actions_destroy(&actions)
        return pid
    }

    /// Spawn attributes that start the child with no signal blocked. The test process's threads
    /// block some, SIGTERM among them, and a server (slapd) that kept that mask could not be
    /// stopped with `kill`: it outlived every test run.
    static func withUnblockedSignals<T>(_ body: (inout posix_spawnattr_t) -> T) -> T {
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK))
        return body(&attr)
    }
}
