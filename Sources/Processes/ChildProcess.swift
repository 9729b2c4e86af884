import CSpawn
import Foundation

/// One external program run to completion on its own thread (never the cooperative pool), in
/// its own process group, with a deadline and a cap on what it may print.
public enum ChildProcess {
    public struct Request: Sendable {
        public var argv: [String]
        public var environment: [String: String]
        public var workingDirectory: String
        public var stdin: [UInt8]
        /// Seconds before the whole process group is killed.
        public var timeout: Double
        /// Bytes of stdout plus stderr before the process group is killed.
        public var outputLimit: Int

        public init(argv: [String], environment: [String: String], workingDirectory: String, stdin: [UInt8] = [],
            timeout: Double = 60, outputLimit: Int = 64 * 1024)
        {
            self.argv = argv
            self.environment = environment
            self.workingDirectory = workingDirectory
            self.stdin = stdin
            self.timeout = timeout
            self.outputLimit = outputLimit
        }
    }

    public struct Result: Sendable {
        public var pid: pid_t
        /// Exit code; nil when a signal ended it.
        public var exitCode: Int32?
        public var signal: Int32?
        public var timedOut: Bool
        public var oversized: Bool
        public var stdout: [UInt8]
        public var stderr: [UInt8]
    }

    public struct StartError: Error, Sendable, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// Runs `request`; `started` gets the pid as soon as the child exists.
    public static func run(_ request: Request, started: (@Sendable (pid_t) -> Void)? = nil) async throws(StartError) -> Result {
        let outcome: Swift.Result<Result, StartError> = await withCheckedContinuation { cont in
            Thread {
                cont.resume(returning: Swift.Result { () throws(StartError) -> Result in try runBlocking(request, started) })
            }.start()
        }
        return try outcome.get()
    }

    static let ignoreSigpipe: Void = { signal(SIGPIPE, SIG_IGN) }()

    static func runBlocking(_ r: Request, _ started: (@Sendable (pid_t) -> Void)?) throws(StartError) -> Result {
        _ = ignoreSigpipe
        guard let first = r.argv.first else { throw StartError(description: "no program to run") }
        let path = resolve(first, searchPath: r.environment["PATH"] ?? "/usr/bin:/bin")
        guard let path else { throw StartError(description: "program '\(first)' was not found") }
        var pipes = [[Int32]](repeating: [-1, -1], count: 3)
        for i in 0..<3 where cspawn_pipe(&pipes[i]) != 0 {
            pipes.joined().filter { $0 >= 0 }.forEach { _ = close($0) }
            throw StartError(description: "cannot create pipes: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipes[0][0], 0)
        posix_spawn_file_actions_adddup2(&actions, pipes[1][1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipes[2][1], 2)
        _ = cspawn_addclosefrom(&actions, 3)  // nothing of the server's (sockets, the database) reaches the program
        _ = cspawn_addchdir(&actions, r.workingDirectory)
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        posix_spawnattr_setpgroup(&attr, 0)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attr, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attr, &none)
        let cargs = r.argv.map { strdup($0) } + [nil]
        let cenv = r.environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cargs + cenv).forEach { free($0) } }
        var pid: pid_t = 0
        var rc = posix_spawn(&pid, path, &actions, &attr, cargs, cenv)
        // A just-written program can be briefly "busy": another thread's child, between its fork
        // and exec, may still hold the writer's descriptor. It clears within milliseconds.
        for _ in 0..<50 where rc == ETXTBSY {
            usleep(10_000)
            rc = posix_spawn(&pid, path, &actions, &attr, cargs, cenv)
        }
        [pipes[0][0], pipes[1][1], pipes[2][1]].forEach { _ = close($0) }
        guard rc == 0 else {
            [pipes[0][1], pipes[1][0], pipes[2][0]].forEach { _ = close($0) }
            throw StartError(description: "cannot start '\(first)': \(String(cString: strerror(rc)))")
        }
        started?(pid)
        var pump = Pump(pid: pid, stdin: pipes[0][1], stdout: pipes[1][0], stderr: pipes[2][0], input: r.stdin,
            deadline: Date().addingTimeInterval(r.timeout), limit: r.outputLimit)
        return pump.run()
    }

    /// The program's path: as given when it holds a slash, else the first executable in `searchPath`.
    static func resolve(_ program: String, searchPath: String) -> String? {
        if program.contains("/") { return program }
        for dir in searchPath.split(separator: ":") where access("\(dir)/\(program)", X_OK) == 0 {
            return "\(dir)/\(program)"
        }
        return nil
    }
}
