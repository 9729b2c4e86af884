import Foundation

/// A real PostgreSQL server for the SQL plugin tests: `initdb` into a temporary directory (as the
/// `postgres` user, since the server refuses root), SCRAM-SHA-256 on 127.0.0.1, TLS from a CA made
/// here, every statement logged (to check no password lands there), and an admin with CREATEROLE.
public enum PostgresServer {
    public static let dir = "/tmp/custody-postgres-\(getpid())"
    public static let port = TestTargets.freePort()
    public static let admin = "custody_admin"
    public static let adminPassword = "Admin-Pass-1!"
    public static var caFile: String { dir + "/ca.crt" }
    /// The newest installed server version's programs.
    public static let bin: String = {
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        return "/usr/lib/postgresql/\(versions.last ?? 15)/bin"
    }()

    public static let available: Bool = start()

    private static func start() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: bin + "/postgres"), TestTargets.exists("postgres") else { return false }
        TestTargets.sweep("custody-postgres-")
        TestTargets.sweep("custody-pg-")
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)")
        TestCA.issue(in: dir)
        TestTargets.sh("chown -R postgres \(dir); chmod 600 \(dir)/server.key")
        TestTargets.sh("runuser -u postgres -- \(bin)/initdb -D \(dir)/data -U postgres --auth-local=trust --auth-host=scram-sha-256 "
            + "> \(dir)/initdb.log 2>&1")
        let pid = Spawn.background(["/usr/sbin/runuser", "-u", "postgres", "--", bin + "/postgres", "-D", dir + "/data", "-p", String(port),
            "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", "ssl_cert_file=\(dir)/server.crt",
            "-c", "ssl_key_file=\(dir)/server.key", "-c", "log_statement=all", "-c", "logging_collector=on",
            "-c", "log_directory=\(dir)/log", "-c", "password_encryption=scram-sha-256",
            // The store's suites open a database and a small pool per test, many at once.
            "-c", "max_connections=400", "-c", "max_locks_per_transaction=512",
            // A test server: durability is not what is tested, and fsyncs slow every other suite.
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"])
        TestTargets.watchdog(dir: dir, stop: TestTargets.stopPostgres(dir + "/data", bin: bin))
        _ = pid
        guard TestTargets.waitForPort(port) else { return false }
        return root("CREATE ROLE \(admin) LOGIN CREATEROLE PASSWORD '\(adminPassword)';")
    }

    /// Runs SQL as the superuser over the local socket.
    @discardableResult
    public static func root(_ sql: String, database: String = "postgres") -> Bool {
        Spawn.run(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-d", database],
            stdin: sql).status == 0
    }

    /// The first column of the first row of `sql`, run as the superuser ("" on error).
    public static func value(_ sql: String, database: String = "postgres") -> String {
        Spawn.run(["/usr/bin/psql", "-X", "-q", "-tA", "-h", dir, "-p", String(port), "-U", "postgres", "-d", database, "-c", sql])
            .out.split(separator: "\n").first.map(String.init) ?? ""
    }

    /// A fresh login role with a known password.
    public static func role(_ name: String, password: String) {
        let ident = "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let pw = password.replacingOccurrences(of: "'", with: "''")
        root("DROP ROLE IF EXISTS \(ident); CREATE ROLE \(ident) LOGIN PASSWORD '\(pw)';")
    }

    /// Whether `password` logs in as `role`, checked with `psql` (password in PGPASSWORD).
    public static func passwordWorks(_ role: String, _ password: String) -> Bool {
        Spawn.run(["/usr/bin/psql", "-X", "-q", "-h", "127.0.0.1", "-p", String(port), "-U", role, "-d", "postgres", "-c", "SELECT 1"],
            env: ["PGPASSWORD": password, "PGSSLMODE": "disable", "PGCONNECT_TIMEOUT": "5"]).status == 0
    }

    /// Runs SQL as the superuser in the background (e.g. to hold a lock), output discarded.
    public static func hold(_ sql: String) {
        _ = Spawn.background(["/usr/bin/psql", "-X", "-q", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", sql])
    }

    /// Everything the server logged.
    public static var log: String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/log")) ?? []
        return files.compactMap { try? String(contentsOfFile: dir + "/log/" + $0, encoding: .utf8) }.joined()
    }
}
