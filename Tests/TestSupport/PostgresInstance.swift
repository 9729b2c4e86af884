import Foundation

/// A PostgreSQL server of one test's own, which the test may stop and start again (the shared
/// `PostgresServer` must stay up for the other suites). TLS from a CA made here, SCRAM passwords,
/// one login role that owns one database.
public final class PostgresInstance: @unchecked Sendable {
    public let dir = "/tmp/custody-pg-\(getpid())-\(UUID().uuidString.prefix(6))"
    public let port = TestTargets.freePort()
    public let role = "custody_store"
    public let password = "Instance-Pass-" + String(UUID().uuidString.prefix(8))
    public let database = "vault"
    public var caFile: String { dir + "/ca.crt" }
    public var url: String { "postgres://\(role)@127.0.0.1:\(port)/\(database)?sslmode=verify-full&sslrootcert=\(caFile)" }

    public init() {}

    /// initdb, start, the role and its database; false (with nothing left running) when it cannot.
    public func create() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: PostgresServer.bin + "/postgres") else { return false }
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)")
        TestCA.issue(in: dir)
        TestTargets.sh("chown -R postgres \(dir); chmod 600 \(dir)/server.key")
        TestTargets.sh("runuser -u postgres -- \(PostgresServer.bin)/initdb -D \(dir)/data -U postgres --auth-local=trust "
            + "--auth-host=scram-sha-256 > \(dir)/initdb.log 2>&1")
        _ = Spawn.background(["/bin/sh", "-c",
            "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; pkill -f 'postgres -D \(dir)/data'; sleep 2; rm -rf \(dir)"])
        guard start() else { return false }
        let sql = "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; CREATE DATABASE \(database) OWNER \(role);"
        return Spawn.run(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres"],
            stdin: sql).status == 0
    }

    /// Starts the server and waits (bounded) for its port.
    public func start() -> Bool {
        _ = Spawn.background(["/usr/sbin/runuser", "-u", "postgres", "--", PostgresServer.bin + "/postgres", "-D", dir + "/data", "-p", String(port),
            "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-c", "ssl_cert_file=\(dir)/server.crt",
            "-c", "ssl_key_file=\(dir)/server.key", "-c", "password_encryption=scram-sha-256", "-c", "fsync=off",
            "-c", "logging_collector=on", "-c", "log_directory=\(dir)/log", "-c", "log_connections=on", "-c", "log_disconnections=on"])
        return TestTargets.waitForPort(port, seconds: 90)  // initdb's first start, among every suite's
    }

    /// Everything the server logged (connections included).
    public var log: String {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: dir + "/log")) ?? []).sorted()
        return files.compactMap { try? String(contentsOfFile: dir + "/log/" + $0, encoding: .utf8) }.joined()
    }

    /// Stops the server (fast shutdown: sessions are ended) and waits until its port is closed.
    @discardableResult
    public func stop() -> Bool {
        Spawn.run(["/usr/sbin/runuser", "-u", "postgres", "--", PostgresServer.bin + "/pg_ctl", "-D", dir + "/data", "-m", "fast", "-w", "-t", "30",
            "stop"]).status == 0
    }
}
