import Foundation

/// A real MariaDB server for the SQL plugin tests: a temporary data directory, TCP on 127.0.0.1
/// with TLS from a CA made here, the `simple_password_check` plugin, and an admin with the
/// CREATE USER privilege. Started once per test process; a watchdog stops it.
public enum MariaDBServer {
    public static let dir = "/tmp/custody-mariadb-\(getpid())"
    public static let port = TestTargets.freePort()
    public static let admin = "custody_admin"
    public static let adminPassword = "Admin-Pass-1!"
    public static var caFile: String { dir + "/ca.crt" }

    public static let available: Bool = start()

    private static func start() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/mariadbd") else { return false }
        TestTargets.sweep("custody-mariadb-")
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)")
        TestCA.issue(in: dir)
        TestTargets.sh("mariadb-install-db --no-defaults --datadir=\(dir)/data --user=root --auth-root-authentication-method=socket "
            + "--skip-test-db > \(dir)/install.log 2>&1")
        let pid = Spawn.background(["/usr/sbin/mariadbd", "--no-defaults", "--datadir=\(dir)/data", "--socket=\(dir)/sock",
            "--port=\(port)", "--bind-address=127.0.0.1", "--user=root", "--pid-file=\(dir)/pid", "--log-error=\(dir)/err.log",
            "--ssl-ca=\(dir)/ca.crt", "--ssl-cert=\(dir)/server.crt", "--ssl-key=\(dir)/server.key"])
        _ = Spawn.background(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pid); sleep 2; rm -rf \(dir)"])
        guard TestTargets.waitForPort(port) else { return false }
        return root("""
            INSTALL SONAME 'simple_password_check';
            CREATE USER '\(admin)'@'%' IDENTIFIED BY '\(adminPassword)';
            GRANT CREATE USER ON *.* TO '\(admin)'@'%';
            """)
    }

    /// Runs SQL as root over the socket.
    @discardableResult
    public static func root(_ sql: String) -> Bool {
        Spawn.run(["/usr/bin/mariadb", "--no-defaults", "-S", dir + "/sock", "-u", "root"], stdin: sql).status == 0
    }

    /// A fresh account `name`@`%` with a known password (the literal is escaped for SQL here).
    public static func user(_ name: String, password: String) {
        let pw = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        root("DROP USER IF EXISTS '\(name)'@'%'; CREATE USER '\(name)'@'%' IDENTIFIED BY '\(pw)';")
    }

    /// Whether `password` logs in as `user`, checked with the `mariadb` client (password in MYSQL_PWD).
    public static func passwordWorks(_ user: String, _ password: String) -> Bool {
        Spawn.run(["/usr/bin/mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", String(port), "-u", user, "-e", "SELECT 1"],
            env: ["MYSQL_PWD": password]).status == 0
    }
}
