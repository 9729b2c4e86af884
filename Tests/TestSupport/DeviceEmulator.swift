import Foundation

/// A network device emulator (Tests/Emulators/netdev.py, written from the vendors' documented
/// CLIs) serving one or more devices over SSH and telnet on 127.0.0.1. Stop it when done.
public final class DeviceEmulator: @unchecked Sendable {
    public let family: String
    public let sshPort: Int
    public let telnetPort: Int
    public let dir: String
    let pid: pid_t

    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Emulators/netdev.py").path

    /// Whether python3 with paramiko is here (`make deps` installs it).
    public static let available: Bool = Spawn.run(["/usr/bin/env", "python3", "-c", "import paramiko"]).status == 0

    /// Starts `family` with the given users ("name:password[:privilege]") and extra flags.
    public init(family: String, users: [String], flags: [String] = [], count: Int = 1) throws {
        self.family = family
        dir = "/tmp/custody-netdev-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var ports: (Int, Int) = (0, 0)
        repeat { ports = (TestTargets.freePort(), TestTargets.freePort()) } while ports.0 == ports.1
        sshPort = ports.0
        telnetPort = ports.1
        var argv = ["/usr/bin/env", "python3", Self.script, "--family", family, "--ssh-port", "\(sshPort)", "--telnet-port",
            "\(count == 1 ? telnetPort : 0)", "--state-dir", dir, "--host-key", dir + "/host_key", "--count", "\(count)"]
        argv += users.flatMap { ["--user", $0] } + flags
        pid = Spawn.background(argv)
        let deadline = Date().addingTimeInterval(90)  // python and paramiko start slowly on a crowded machine
        while Date() < deadline {
            if TestTargets.portOpen(sshPort + count - 1), count > 1 || TestTargets.portOpen(telnetPort) { return }
            usleep(50_000)
        }
        stop()
        throw EmulatorFailure(message: "the \(family) emulator did not start")
    }

    /// Device `i`'s state file: running, startup (and candidate) configuration, command log.
    public func state(_ i: Int = 0) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: "\(dir)/\(i).json"),
            let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return [:] }
        return obj
    }

    /// A user's password in the named configuration ("running", "startup", "candidate").
    public func password(_ user: String, in config: String = "running", device i: Int = 0) -> String? {
        ((state(i)[config] as? [String: Any])?["users"] as? [String: Any]).flatMap { ($0[user] as? [String: Any])?["password"] as? String }
    }

    /// A top-level credential of a configuration (`enable_secret`, `enable_password`, `login_password`).
    public func value(_ key: String, in config: String = "running", device i: Int = 0) -> String? {
        (state(i)[config] as? [String: Any])?[key] as? String
    }

    /// One of ProCurve's two credentials ("manager", "operator"): its user name and password.
    public struct Level: Equatable, Sendable, CustomStringConvertible {
        public let name: String?
        public let password: String?
        public init(_ name: String?, _ password: String?) {
            self.name = name
            self.password = password
        }
        public var description: String { "\(name ?? "-")/\(password ?? "-")" }
    }

    public func level(_ which: String, in config: String = "running", device i: Int = 0) -> Level? {
        (((state(i)[config] as? [String: Any])?["levels"] as? [String: Any])?[which] as? [String: Any])
            .map { Level($0["name"] as? String, $0["password"] as? String) }
    }

    public func log(device i: Int = 0) -> [String] { state(i)["log"] as? [String] ?? [] }

    public func stop() {
        kill(pid, SIGTERM)
        for _ in 0..<50 {
            if waitpid(pid, nil, WNOHANG) != 0 { break }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        _ = waitpid(pid, nil, WNOHANG)
        try? FileManager.default.removeItem(atPath: dir)
    }
}

public struct EmulatorFailure: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
