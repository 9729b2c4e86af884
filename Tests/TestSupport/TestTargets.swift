import Foundation
import Shared
import Testing

/// Real target servers for the plugin tests: OpenSSH `sshd` (with PAM) and inetutils `telnetd`
/// on 127.0.0.1, with local users made for the tests. Started once per test process, stopped at exit.
public enum TestTargets {
    public static let dir = "/tmp/custody-targets-\(getpid())"
    public static let sshPort = 22000 + Int(getpid() % 5000)
    public static let telnetPort = 27000 + Int(getpid() % 5000)
    /// A second sshd that offers keyboard-interactive but not the password method.
    public static let kbdPort = 32000 + Int(getpid() % 5000)
    /// A third sshd that speaks only SHA-1 key exchange and CBC ciphers, like an old device.
    public static let legacyPort = 37000 + Int(getpid() % 5000)
    public static let loginPassword = "Login-Pass-1"
    public static let rootPassword = "Root-Pass-1"
    public static let sudoPassword = "Sudo-Pass-1"

    /// The uid-0 account su switches to; the machine's own root password is never touched.
    public static let rootUser = "custody_root"
    public static let loginUser = "custody_login"
    public static let sudoUser = "custody_sudo"
    public static let noSudoUser = "custody_nosudo"

    public struct Ready: Sendable {
        public let hostKey: String
        public let available: Bool
        public let why: String
    }

    public static let ready: Ready = start()

    private static func start() -> Ready {
        guard getuid() == 0 else { return Ready(hostKey: "", available: false, why: "tests need root to make users") }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") else {
            return Ready(hostKey: "", available: false, why: "sshd is not installed (make test installs openssh-server)")
        }
        try? FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        sh("rm -f \(dir)/hk \(dir)/hk.pub; ssh-keygen -q -t ed25519 -N '' -f \(dir)/hk")
        let config = """
            Port \(sshPort)
            ListenAddress 127.0.0.1
            HostKey \(dir)/hk
            PidFile \(dir)/sshd.pid
            UsePAM yes
            PasswordAuthentication yes
            KbdInteractiveAuthentication yes
            PermitRootLogin no
            StrictModes no
            PubkeyAuthentication yes
            AuthorizedKeysFile \(dir)/keys/%u
            MaxStartups 200:30:300
            MaxSessions 50
            LogLevel VERBOSE
            """
        try? config.write(toFile: dir + "/sshd_config", atomically: true, encoding: .utf8)
        user(loginUser, loginPassword)
        user(sudoUser, sudoPassword)
        user(noSudoUser, loginPassword)
        if !exists(rootUser) { sh("useradd -o -u 0 -g 0 -M -N -d /root -s /bin/bash \(rootUser)") }
        setPassword(rootUser, rootPassword)
        try? "\(sudoUser) ALL=(ALL) ALL\n".write(toFile: "/etc/sudoers.d/custody-tests", atomically: true, encoding: .utf8)
        chmod("/etc/sudoers.d/custody-tests", 0o440)
        let kbdConfig = config.replacingOccurrences(of: "Port \(sshPort)", with: "Port \(kbdPort)")
            .replacingOccurrences(of: "PasswordAuthentication yes", with: "PasswordAuthentication no")
            .replacingOccurrences(of: "PidFile \(dir)/sshd.pid", with: "PidFile \(dir)/sshd-kbd.pid")
        try? kbdConfig.write(toFile: dir + "/sshd_kbd_config", atomically: true, encoding: .utf8)
        children.append(spawn(["/usr/sbin/sshd", "-D", "-f", dir + "/sshd_kbd_config", "-E", dir + "/sshd-kbd.log"]))
        _ = waitForPort(kbdPort)
        let legacyConfig = config.replacingOccurrences(of: "Port \(sshPort)", with: "Port \(legacyPort)")
            .replacingOccurrences(of: "PidFile \(dir)/sshd.pid", with: "PidFile \(dir)/sshd-legacy.pid")
            + "\nKexAlgorithms diffie-hellman-group14-sha1\nCiphers aes128-cbc\n"
        try? legacyConfig.write(toFile: dir + "/sshd_legacy_config", atomically: true, encoding: .utf8)
        children.append(spawn(["/usr/sbin/sshd", "-D", "-f", dir + "/sshd_legacy_config", "-E", dir + "/sshd-legacy.log"]))
        _ = waitForPort(legacyPort)
        let pid = spawn(["/usr/sbin/sshd", "-D", "-f", dir + "/sshd_config", "-E", dir + "/sshd.log"])
        atexit { TestTargets.stopAll() }
        children.append(pid)
        guard waitForPort(sshPort) else { return Ready(hostKey: "", available: false, why: "sshd did not start: \(log)") }
        let fp = sh("ssh-keygen -l -E sha256 -f \(dir)/hk.pub").split(separator: " ").dropFirst().first.map(String.init) ?? ""
        startTelnet()
        // A watchdog stops the servers when the test process ends, however it ends.
        let pids = children.map(String.init).joined(separator: " ")
        _ = spawn(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pids) 2>/dev/null; rm -rf \(dir)"])
        return Ready(hostKey: fp, available: true, why: "")
    }

    nonisolated(unsafe) public static var children: [pid_t] = []

    public static func stopAll() {
        for pid in children { kill(pid, SIGTERM) }
        try? FileManager.default.removeItem(atPath: dir)
    }

    public static var log: String { (try? String(contentsOfFile: dir + "/sshd.log", encoding: .utf8)) ?? "" }

    /// inetutils-inetd on a private config, spawning telnetd for the test port.
    public static func startTelnet() {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/telnetd"),
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/inetutils-inetd")
        else { return }
        let conf = "\(telnetPort) stream tcp nowait root /usr/sbin/telnetd telnetd\n"
        try? conf.write(toFile: dir + "/inetd.conf", atomically: true, encoding: .utf8)
        children.append(spawn(["/usr/sbin/inetutils-inetd", "-d", dir + "/inetd.conf"]))
        _ = waitForPort(telnetPort)
    }

    public static var telnetAvailable: Bool { portOpen(telnetPort) }

    /// A fresh target user with a known password; each test uses its own.
    public static func target(_ name: String, password: String) -> String {
        let user = "ct_" + name
        Self.user(user, password)
        return user
    }

    /// A fresh target user allowed to sudo, for a test whose rotation changes its login account's
    /// password too (the shared `sudoUser` must keep its known password).
    public static func sudoTarget(_ name: String, password: String) -> String {
        let user = target(name, password: password)
        let file = "/etc/sudoers.d/custody-tests-\(user)"
        try? "\(user) ALL=(ALL) ALL\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o440)
        return user
    }

    public static func user(_ name: String, _ password: String) {
        if !exists(name) { sh("useradd -m -s /bin/bash \(name)") }
        setPassword(name, password)
    }

    public static func exists(_ name: String) -> Bool { !sh("id -u \(name) 2>/dev/null").isEmpty }

    public static func setPassword(_ name: String, _ password: String) {
        Spawn.run(["/usr/sbin/chpasswd"], stdin: "\(name):\(password)\n")
    }

    /// Checks a password against /etc/shadow through the system's crypt, independently of the plugin.
    public static func passwordWorks(_ user: String, _ password: String) -> Bool {
        let script = """
            import crypt, spwd, sys
            h = spwd.getspnam(sys.argv[1]).sp_pwdp
            sys.exit(0 if crypt.crypt(sys.stdin.read(), h) == h else 1)
            """
        return Spawn.run(["/usr/bin/python3", "-W", "ignore", "-c", script, user], stdin: password).status == 0
    }

    @discardableResult
    public static func sh(_ command: String) -> String {
        Spawn.run(["/bin/sh", "-c", command]).out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func spawn(_ args: [String]) -> pid_t { Spawn.background(args) }

    /// Removes what gone test processes left under `/tmp/<prefix><pid>…` (a run killed from outside
    /// takes its watchdogs with it), first stopping any server still running from there. A
    /// PostgreSQL data directory is over a gigabyte: left behind, they fill the disk.
    /// This test process's scratch directory, `/tmp/custody-run-<pid>`; those of ended processes
    /// are removed the first time it is asked for.
    public static let scratch: String = {
        sweep("custody-run-")
        let dir = "/tmp/custody-run-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    public static var scratchURL: URL { URL(fileURLWithPath: scratch, isDirectory: true) }

    public static func sweep(_ prefix: String) {
        sh("""
            for d in /tmp/\(prefix)*; do
              [ -e "$d" ] || continue; p=${d#/tmp/\(prefix)}; p=${p%%-*}; p=${p%%.*}
              case $p in ''|*[!0-9]*) continue;; esac
              kill -0 "$p" 2>/dev/null && continue
              pkill -9 -f "$d/" 2>/dev/null; rm -rf "$d"
            done
            """)
    }

    /// A watchdog that, once this process is gone, runs `stop` (which must wait for the server to
    /// end) and removes `dir`. Nothing here matches processes by pattern: the watchdog's own command
    /// line holds every pattern it would use, and would stop itself first.
    public static func watchdog(dir: String, stop: String) {
        _ = Spawn.background(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(stop); rm -rf \(dir)"])
    }

    /// Stops the PostgreSQL of a data directory (fast shutdown, waited for; SIGKILL after 20 s).
    public static func stopPostgres(_ data: String, bin: String) -> String {
        "runuser -u postgres -- \(bin)/pg_ctl stop -D \(data) -m fast -w -t 20 >/dev/null 2>&1; "
            + "[ -f \(data)/postmaster.pid ] && kill -9 $(head -1 \(data)/postmaster.pid) 2>/dev/null; sleep 1"
    }

    public static func portOpen(_ port: Int, host: String = "127.0.0.1") -> Bool {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr(host)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port nothing listens on now (the kernel's choice for port 0), for a test server.
    public static func freePort() -> Int {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(s) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// Bounded wait for a listening port.
    public static func waitForPort(_ port: Int, host: String = "127.0.0.1", seconds: Double = 10) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)  // by the clock: a crowded machine is slow
        repeat {
            if portOpen(port, host: host) { return true }
            usleep(100_000)
        } while Date() < deadline
        return false
    }

    /// A job for `user` on the test sshd.
    public static func job(_ user: String, current: String?, new: String? = nil, elevation: ResetSettings.Elevation = .none,
        login: ResetJob.Credential? = nil, root: ResetJob.Credential? = nil, transport: ResetSettings.TransportKind = .ssh,
        change: ResetSettings.ChangeMethod = .passwd, hostKey: String? = nil) -> ResetJob
    {
        ResetJob(
            operation: new == nil ? .verify : .reset, resource: ["RESOURCENAME": "localhost", "IPADDRESS": "127.0.0.1"],
            account: ["LOGINNAME": user], currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init),
            loginAccount: login, rootAccount: root,
            settings: ResetSettings(transport: transport, port: transport == .ssh ? sshPort : telnetPort, elevation: elevation,
                changeMethod: change, hostKey: hostKey ?? ready.hostKey, promptTimeout: 30, connectTimeout: 10))
    }
}
