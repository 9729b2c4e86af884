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
    /// The address it listens on, and the network namespace it runs in (nil: this one).
    public let address: String
    public let netns: String?
    public var url: String { "postgres://\(role)@\(address):\(port)/\(database)?sslmode=verify-full&sslrootcert=\(caFile)" }

    public init(address: String = "127.0.0.1", netns: String? = nil) {
        self.address = address
        self.netns = netns
    }

    /// initdb, start, the role and its database; false (with nothing left running) when it cannot.
    public func create() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: PostgresServer.bin + "/postgres") else { return false }
        TestTargets.sh("rm -rf \(dir); mkdir -p \(dir)")
        TestCA.issue(in: dir, ips: address == "127.0.0.1" ? [] : [address])
        TestTargets.sh("chown -R postgres \(dir); chmod 600 \(dir)/server.key")
        TestTargets.sh("runuser -u postgres -- \(PostgresServer.bin)/initdb -D \(dir)/data -U postgres --auth-local=trust "
            + "--auth-host=scram-sha-256 > \(dir)/initdb.log 2>&1")
        // Clients from another address (the far end of a namespace's link) sign in as from loopback.
        if address != "127.0.0.1" { TestTargets.sh("echo 'hostssl all all 0.0.0.0/0 scram-sha-256' >> \(dir)/data/pg_hba.conf") }
        TestTargets.watchdog(dir: dir, stop: TestTargets.stopPostgres(dir + "/data", bin: PostgresServer.bin))
        guard start() else { return false }
        let sql = "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; CREATE DATABASE \(database) OWNER \(role);"
        return Spawn.run(["/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres"],
            stdin: sql).status == 0
    }

    /// Starts the server and waits (bounded) for its port.
    public func start() -> Bool {
        let inNamespace = netns.map { ["/usr/sbin/ip", "netns", "exec", $0] } ?? []
        _ = Spawn.background(inNamespace + ["/usr/sbin/runuser", "-u", "postgres", "--", PostgresServer.bin + "/postgres", "-D", dir + "/data", "-p", String(port),
            "-k", dir, "-c", "listen_addresses=\(address)", "-c", "ssl=on", "-c", "ssl_cert_file=\(dir)/server.crt",
            "-c", "ssl_key_file=\(dir)/server.key", "-c", "password_encryption=scram-sha-256", "-c", "fsync=off",
            "-c", "logging_collector=on", "-c", "log_directory=\(dir)/log", "-c", "log_connections=on", "-c", "log_disconnections=on"])
        guard netns != nil else { return TestTargets.waitForPort(port, seconds: 90) }  // initdb's first start, among every suite's
        // In its own namespace: its Unix socket (a file, seen from here) answers once it is up.
        let deadline = Date().addingTimeInterval(90)
        repeat {
            if Spawn.run(["/usr/bin/psql", "-X", "-q", "-h", dir, "-p", String(port), "-U", "postgres", "-d", "postgres", "-c", "SELECT 1"]).status == 0 {
                return true
            }
            usleep(200_000)
        } while Date() < deadline
        return false
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
