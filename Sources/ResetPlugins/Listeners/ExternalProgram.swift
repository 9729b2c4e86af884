import Foundation

/// A program the server runs on an administrator's behalf (a listener script or a custom plugin):
/// its body is written to a fresh private directory, run there with a minimal environment, and
/// the directory is removed afterwards.
public struct ExternalProgram: Sendable {
    /// A file name for the body, shown in process listings (never a secret).
    public var name: String
    public var body: [UInt8]
    /// An interpreter prefix such as `python3 -u` (PMP's pre-command).
    public var preCommand: [String]
    /// Where run directories are made (0700).
    public var workRoot: String
    public var timeout: Double
    public var outputLimit: Int

    public init(name: String, body: [UInt8], preCommand: [String] = [], workRoot: String, timeout: Double = 60,
        outputLimit: Int = 64 * 1024)
    {
        self.name = name
        self.body = body
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
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/" + Self.fileName(name)
        guard Self.write(body, to: file) else { throw ChildProcess.StartError(description: "cannot write the program to its run directory") }
        var env = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": dir, "TMPDIR": dir, "LANG": "C.UTF-8"]
        env.merge(environment) { _, new in new }
        let request = ChildProcess.Request(argv: preCommand + [file] + arguments, environment: env, workingDirectory: dir,
            stdin: stdin, timeout: timeout, outputLimit: outputLimit)
        return try await ChildProcess.run(request, started: started)
    }

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
        var template = Array((workRoot + "/run-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw ChildProcess.StartError(description: String(cString: strerror(errno))) }
        return String(cString: made)
    }

    /// Letters, digits, dot, dash and underscore; anything else becomes `_`.
    static func fileName(_ name: String) -> String {
        let safe = String(name.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-".unicodeScalars.contains(s)) ? Character(s) : "_"
        })
        return safe.isEmpty || safe.hasPrefix(".") ? "program" + safe : safe
    }
}
