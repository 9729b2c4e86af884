import Crypto
import Foundation
import Processes

/// A program the server runs on an administrator's behalf (a listener script or a custom plugin):
/// its body is written to a fresh private directory, run there with a minimal environment, and
/// the directory is removed afterwards.
public struct ExternalProgram: Sendable {
    /// The program: bytes (a stored script), or an executable on disk pinned by its SHA-256,
    /// read when it runs (the bytes checked are the bytes run).
    public enum Source: Sendable {
        case bytes([UInt8])
        case file(path: String, sha256: String)
    }

    /// A file name for the body, shown in process listings (never a secret).
    public var name: String
    public var source: Source
    /// An interpreter prefix such as `python3 -u` (PMP's pre-command).
    public var preCommand: [String]
    /// Where run directories are made (0700).
    public var workRoot: String
    public var timeout: Double
    public var outputLimit: Int

    public init(name: String, body: [UInt8], preCommand: [String] = [], workRoot: String, timeout: Double = 60,
        outputLimit: Int = 64 * 1024)
    {
        self.init(name: name, source: .bytes(body), preCommand: preCommand, workRoot: workRoot, timeout: timeout, outputLimit: outputLimit)
    }

    public init(name: String, source: Source, preCommand: [String] = [], workRoot: String, timeout: Double = 60,
        outputLimit: Int = 64 * 1024)
    {
        self.name = name
        self.source = source
        self.preCommand = preCommand
        self.workRoot = workRoot
        self.timeout = timeout
        self.outputLimit = outputLimit
    }

    /// Splits a pre-command on white space (no shell is involved).
    public static func split(_ preCommand: String?) -> [String] {
        (preCommand ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    public func run(arguments: [String], environment: [String: String] = [:], stdin: [UInt8] = [],
        started: (@Sendable (pid_t) -> Void)? = nil) async throws(ChildProcess.StartError) -> ChildProcess.Result
    {
        let dir: String
        do { dir = try makeRunDirectory() } catch { throw ChildProcess.StartError(description: "cannot prepare the run directory: \(error)") }
        defer { Self.remove(dir) }
        let body: [UInt8]
        switch source {
        case .bytes(let b): body = b
        case .file(let path, let pinned):
            let data = try Self.readExecutable(path)
            guard Self.sha256(data) == pinned else {
                throw ChildProcess.StartError(description: "\(path) changed since it was approved (SHA-256 differs); not run")
            }
            body = Array(data)
        }
        let file = dir + "/" + Self.fileName(name)
        guard Self.write(body, to: file) else { throw ChildProcess.StartError(description: "cannot write the program to its run directory") }
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": dir, "TMPDIR": dir, "LANG": "C.UTF-8"]
        env.merge(environment) { _, new in new }
        let request = ChildProcess.Request(argv: preCommand + [file] + arguments, environment: env, workingDirectory: dir,
            stdin: stdin, timeout: timeout, outputLimit: outputLimit)
        return try await ChildProcess.run(request, started: started)
    }

    public static let maxExecutableBytes = 256 << 20

    /// An executable's bytes: a regular file (not a link, FIFO or device), executable, bounded.
    public static func readExecutable(_ path: String) throws(ChildProcess.StartError) -> Data {
        var st = stat()
        guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(path, X_OK) == 0 else {
            throw ChildProcess.StartError(description: "\(path) is not an executable regular file")
        }
        guard st.st_size <= maxExecutableBytes, let data = FileManager.default.contents(atPath: path) else {
            throw ChildProcess.StartError(description: "\(path) cannot be read (at most \(maxExecutableBytes >> 20) MiB)")
        }
        return data
    }

    public static func sha256(_ data: Data) -> String { SHA256.hash(data: data).hexString }

    /// Written through a close-on-exec descriptor, so no concurrently spawned child keeps it open.
    static func write(_ bytes: [UInt8], to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o700)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    func makeRunDirectory() throws -> String {
        try FileManager.default.createDirectory(atPath: workRoot, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var st = stat()
        guard lstat(workRoot, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == geteuid(), st.st_mode & 0o077 == 0 else {
            throw ChildProcess.StartError(description: "\(workRoot) must be a directory of this user with mode 0700")
        }
        var template = Array((workRoot + "/run-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ChildProcess.StartError(description: String(cString: strerror(errno))) }
        return String(cString: made)
    }

    /// Removes a run directory; a failure is reported on stderr (the server's log), never ignored.
    static func remove(_ dir: String) {
        do { try FileManager.default.removeItem(atPath: dir) } catch {
            FileHandle.standardError.write(Data("custody: cannot remove listener run directory \(dir): \(error)\n".utf8))
        }
    }

    /// Run directories a crash left behind (they may hold a script or its temporary files).
    public static func removeLeftovers(in workRoot: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: workRoot)) ?? []
        let runs = names.filter { $0.hasPrefix("run-") }
        for name in runs { remove(workRoot + "/" + name) }
        return runs.count
    }

    /// Letters, digits, dot, dash and underscore; anything else becomes `_`.
    static func fileName(_ name: String) -> String {
        let safe = String(name.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-".unicodeScalars.contains(s)) ? Character(s) : "_"
        })
        return safe.isEmpty || safe.hasPrefix(".") ? "program" + safe : safe
    }
}
