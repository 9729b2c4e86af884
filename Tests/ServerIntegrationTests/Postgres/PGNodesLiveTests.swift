import Foundation
import Logging
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Two real `custody serve` processes on one real PostgreSQL database, each with its own data
/// directory and the one master key: what a user sees of a cluster.
@Suite(.serialized) struct PGNodesLiveTests {
    let bin = ServerProcess.binary

    func cli(_ s: ServerProcess, _ args: [String], token: String? = nil, stdin: String? = nil) async throws -> (code: Int32, out: String, err: String) {
        var env = ["CUSTODY_SERVER": s.url, "CUSTODY_CA_FILE": s.caFile]
        if let token { env["CUSTODY_TOKEN"] = token }
        return try await run(bin, args, env: env, stdin: stdin)
    }

    /// `runCommand` off the cooperative pool (it blocks until the command ends).
    func run(_ path: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil) async throws -> (code: Int32, out: String, err: String) {
        try await PGTestDatabase.offPool { Result { try runCommand(path, args, env: env, stdin: stdin) } }.get()
    }

    func json(_ r: (code: Int32, out: String, err: String)) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out) \(r.err)")
    }

    /// A node on database `name`, its key at `keyFile` (the first node makes it).
    static func node(_ id: String, database name: String, keyFile: String) -> ServerProcess {
        let url = "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(name)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
        return ServerProcess(extraArgs: ["--store-url", url, "--master-key-file", keyFile],
            env: ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password, "CUSTODY_NODE_NAME": id])
    }

    @Test func twoNodesServeOneVault() async throws {
        let name = try await PGTestDatabase.create()
        let keyDir = TestTargets.scratchURL.appendingPathComponent("custody-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyFile = keyDir + "/master.key"
        let a = Self.node("node-a", database: name, keyFile: keyFile)
        #expect(await PGTestDatabase.offPool { (try? a.start()) ?? false }, "node a did not start: \(a.stderr)")
        defer { a.stop() }
        let b = Self.node("node-b", database: name, keyFile: keyFile)
        #expect(await PGTestDatabase.offPool { (try? b.start()) ?? false }, "node b did not start: \(b.stderr)")
        defer { b.stop() }
        #expect(!a.initialPassword.isEmpty && b.initialPassword.isEmpty, "one administrator, made by the first node")

        // Signed in through a; the token works on b.
        let token = try #require(try json(try await cli(a, ["login", "--username", "admin", "--json"], stdin: a.initialPassword + "\n"))["token"] as? String)
        #expect(try await cli(b, ["user", "password"], token: token, stdin: "\(a.initialPassword)\nCluster-Keeper-Pass-1\n").code == 0)
        let created = try await cli(a, ["resource", "create", "--name", "pg01", "--dns-name", "pg01.example.test", "--type", "Linux", "--json"], token: token)
        let rid = try #require(try json(created)["id"] as? String)
        let stored = "Pg-\(UUID().uuidString)-secret"
        let aid = try #require(try json(try await cli(a, ["account", "create", "--resource", rid, "--login-name", "root", "--json"], token: token,
            stdin: stored + "\n"))["id"] as? String)
        // Written through a, read through b.
        let got = try await cli(b, ["password", "get", "--resource", rid, "--account", aid, "--reason", "cluster test"], token: token)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == stored, "\(got.err)")

        let health = try await run("/usr/bin/curl", ["-s", "--cacert", b.caFile, b.url + "/healthz"])
        #expect(health.out == "ok node=node-b store=postgres database=reachable")
        let cluster = try await run("/usr/bin/curl", ["-s", "--cacert", b.caFile, "-H", "Authorization: Bearer \(token)", b.url + "/api/v1/cluster"])
        let view = try #require(try JSONSerialization.jsonObject(with: Data(cluster.out.utf8)) as? [String: Any], "\(cluster.out)")
        #expect(view["store"] as? String == "postgres" && view["node"] as? String == "node-b")
        let nodes = (view["nodes"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
        #expect(Set(nodes) == ["node-a", "node-b"], "both nodes heartbeat: \(cluster.out)")

        // The trail both nodes appended to is one chain that verifies with the vault's audit key.
        let vault = Vault(masterKey: try MasterKey.load(path: keyFile))
        let store = try await PGTestDatabase.store(name: name, keys: AuditKeyBox(), vault: vault)
        let verified = try await store.db.read { c in try await store.auditLog.verify(c) }
        #expect(verified.ok, "\(verified.problem ?? "")")
        #expect(verified.checked > 5)
        let ops = try await store.db.read { c in try await c.column(String.self, "SELECT operation FROM audit ORDER BY id") }
        #expect(ops.contains("retrieve_password"))

        // No plaintext at rest in either data directory, nor in the database's statement log.
        for dir in [a.dataDir, b.dataDir] {
            for file in try FileManager.default.subpathsOfDirectory(atPath: dir) {
                let data = FileManager.default.contents(atPath: dir + "/" + file) ?? Data()
                #expect(data.range(of: Data(stored.utf8)) == nil, "\(file) holds the password")
            }
        }
        #expect(!PostgresServer.log.contains(stored), "the database's statement log holds the password")

        // Key rotation: refused while a node runs; after every node stopped, the new key opens the
        // vault and a node left with the old key refuses to start.
        let url = "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(name)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
        let rotateEnv = ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password]
        let busy = try await run(bin, ["key", "rotate", "--store-url", url, "--master-key-file", keyFile], env: rotateEnv)
        #expect(busy.code == 2 && busy.err.contains("stop every node first"), "\(busy.err)")
        let started = Date()
        let (stopA, stopB) = (await a.stopped(), await b.stopped())
        #expect(stopA == 0 && stopB == 0, "both nodes stop gracefully on SIGTERM")
        #expect(Date().timeIntervalSince(started) < 10, "within \(Date().timeIntervalSince(started)) s")
        try FileManager.default.copyItem(atPath: keyFile, toPath: keyDir + "/old.key")
        let rotated = try await run(bin, ["key", "rotate", "--store-url", url, "--master-key-file", keyFile], env: rotateEnv)
        #expect(rotated.code == 0 && rotated.out.contains("copy"), "\(rotated.out) \(rotated.err)")
        let stale = Self.node("node-c", database: name, keyFile: keyDir + "/old.key")
        #expect(await PGTestDatabase.offPool { (try? stale.start(timeout: 15)) ?? false } == false, "a node with the old key does not start")
        #expect(stale.stderr.contains("does not open this vault"), "\(stale.stderr)")
        let fresh = Self.node("node-a", database: name, keyFile: keyFile)
        #expect(await PGTestDatabase.offPool { (try? fresh.start()) ?? false }, "\(fresh.stderr)")
        let again = try await cli(fresh, ["login", "--username", "admin", "--json"], stdin: "Cluster-Keeper-Pass-1\n")
        let token2 = try #require(try json(again)["token"] as? String)
        let after = try await cli(fresh, ["password", "get", "--resource", rid, "--account", aid, "--reason", "after rotation"], token: token2)
        #expect(after.out.trimmingCharacters(in: .whitespacesAndNewlines) == stored, "\(after.err)")
        #expect(await fresh.stopped() == 0)
    }

    @Test func aSQLiteVaultMovesToPostgreSQLAndServesFromThere() async throws {
        // A vault on SQLite with an administrator, a resource, an account and its password.
        let sqlite = ServerProcess()
        #expect(await PGTestDatabase.offPool { (try? sqlite.start()) ?? false }, "\(sqlite.stderr)")
        let token = try #require(try json(try await cli(sqlite, ["login", "--username", "admin", "--json"], stdin: sqlite.initialPassword + "\n"))["token"]
            as? String)
        #expect(try await cli(sqlite, ["user", "password"], token: token, stdin: "\(sqlite.initialPassword)\nMoved-Keeper-Pass-1\n").code == 0)
        let rid = try #require(try json(try await cli(sqlite, ["resource", "create", "--name", "mv01", "--dns-name", "mv01.example.test", "--type", "Linux",
            "--json"], token: token))["id"] as? String)
        let stored = "Mv-\(UUID().uuidString)-secret"
        let aid = try #require(try json(try await cli(sqlite, ["account", "create", "--resource", rid, "--login-name", "root", "--json"], token: token,
            stdin: stored + "\n"))["id"] as? String)
        #expect(await sqlite.stopped() == 0)

        let name = try await PGTestDatabase.create(migrated: false)
        let url = "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(name)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
        let env = ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password]
        let moved = try await run(bin, ["store", "migrate", "--data-dir", sqlite.dataDir, "--to", url], env: env)
        #expect(moved.code == 0, "\(moved.out) \(moved.err)")
        #expect(moved.out.contains("audit chain: verified") && moved.out.contains("verified: start the nodes"), "\(moved.out)")
        #expect(moved.err.contains("secrets") && moved.err.contains("#"), "a progress bar per table")
        let again = try await run(bin, ["store", "migrate", "--data-dir", sqlite.dataDir, "--to", url], env: env)
        #expect(again.code == 2 && again.err.contains("not empty"), "a second copy into the same database is refused: \(again.err)")
        let inURL = try await run(bin, ["store", "migrate", "--data-dir", sqlite.dataDir, "--to", url.replacingOccurrences(of: "@", with: ":pw@")])
        #expect(inURL.code != 0 && inURL.err.contains("password in the URL"))

        // A node on the copy: same administrator password, same stored password, same key.
        let node = ServerProcess(extraArgs: ["--store-url", url, "--master-key-file", sqlite.dataDir + "/master.key"], env: env)
        #expect(await PGTestDatabase.offPool { (try? node.start()) ?? false }, "\(node.stderr)")
        defer { node.stop() }
        #expect(node.initialPassword.isEmpty, "the administrator came along")
        let token2 = try #require(try json(try await cli(node, ["login", "--username", "admin", "--json"], stdin: "Moved-Keeper-Pass-1\n"))["token"]
            as? String)
        let got = try await cli(node, ["password", "get", "--resource", rid, "--account", aid, "--reason", "after the move"], token: token2)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == stored, "\(got.err)")
        #expect(await node.stopped() == 0)
    }
}

extension PGNodesLiveTests {
    /// `custody backup create --store-url` beside a running node, then `restore --store-url` into a
    /// second, empty database: a node there serves the same password; no SQLite copy is left.
    @Test func aPostgreSQLVaultIsBackedUpAndRestoredIntoAnotherDatabaseByTheCommandLine() async throws {
        let name = try await PGTestDatabase.create()
        let keyDir = TestTargets.scratchURL.appendingPathComponent("custody-pgbk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let keyFile = keyDir + "/master.key"
        let a = Self.node("node-a", database: name, keyFile: keyFile)
        #expect(await PGTestDatabase.offPool { (try? a.start()) ?? false }, "\(a.stderr)")
        defer { a.stop() }
        let token = try #require(try json(try await cli(a, ["login", "--username", "admin", "--json"], stdin: a.initialPassword + "\n"))["token"] as? String)
        #expect(try await cli(a, ["user", "password"], token: token, stdin: "\(a.initialPassword)\nBackup-Keeper-Pass-1\n").code == 0)
        let rid = try #require(try json(try await cli(a, ["resource", "create", "--name", "bk01", "--dns-name", "bk01.example.test", "--type", "Linux",
            "--json"], token: token))["id"] as? String)
        let stored = "Bk-\(UUID().uuidString)-secret"
        let aid = try #require(try json(try await cli(a, ["account", "create", "--resource", rid, "--login-name", "root", "--json"], token: token,
            stdin: stored + "\n"))["id"] as? String)

        func url(_ db: String) -> String {
            "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(db)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
        }
        let env = ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password]
        let file = keyDir + "/vault.custody-backup"
        let made = try await run(bin, ["backup", "create", "--store-url", url(name), "--master-key-file", keyFile, "--out", file], env: env)
        #expect(made.code == 0 && made.out.contains("backup of the PostgreSQL store written"), "\(made.out) \(made.err)")
        let wrong = MasterKey.generate()
        try wrong.write(to: keyDir + "/wrong.key")
        let refused = try await run(bin, ["backup", "create", "--store-url", url(name), "--master-key-file", keyDir + "/wrong.key", "--out", file + "2"],
            env: env)
        #expect(refused.code == 1 && refused.err.contains("does not open") && !FileManager.default.fileExists(atPath: file + "2"), "\(refused.err)")

        let target = try await PGTestDatabase.create(migrated: false)
        let none = try await run(bin, ["backup", "create", "--store-url", url(target), "--master-key-file", keyFile, "--out", file + "3"], env: env)
        #expect(none.code == 2 && none.err.contains("no Custody vault"), "an empty database is no vault, and is not migrated: \(none.err)")
        let inURL = try await run(bin, ["backup", "restore", file, "--data-dir", keyDir + "/never", "--master-key-file", keyFile,
            "--store-url", url(target).replacingOccurrences(of: "@", with: ":pw@")], env: env)
        #expect(inURL.code == 2 && !FileManager.default.fileExists(atPath: keyDir + "/never") && !inURL.out.contains(":pw@"),
            "a password in the URL is refused before anything is restored: \(inURL.out) \(inURL.err)")
        let restored = keyDir + "/restored"
        let back = try await run(bin, ["backup", "restore", file, "--data-dir", restored, "--master-key-file", keyFile, "--store-url", url(target)],
            env: env)
        #expect(back.code == 0 && back.out.contains("the vault is in PostgreSQL"), "\(back.out) \(back.err)")
        #expect(!FileManager.default.fileExists(atPath: restored + "/custody.sqlite"), "no SQLite copy of the vault is left")
        let b = Self.node("node-b", database: target, keyFile: keyFile)
        #expect(await PGTestDatabase.offPool { (try? b.start()) ?? false }, "\(b.stderr)")
        defer { b.stop() }
        let token2 = try #require(try json(try await cli(b, ["login", "--username", "admin", "--json"], stdin: "Backup-Keeper-Pass-1\n"))["token"]
            as? String)
        let got = try await cli(b, ["password", "get", "--resource", rid, "--account", aid, "--reason", "after the restore"], token: token2)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == stored, "\(got.err)")
        let audit = try await cli(a, ["audit", "list", "--operation", "create_backup", "--json"], token: token)
        #expect(audit.out.contains("of the PostgreSQL store by the command line"), "\(audit.out)")
    }
}

extension ServerProcess {
    /// `stop()` off the cooperative pool (it waits for the process); the exit status, nil if it had to be killed.
    func stopped() async -> Int32? { await PGTestDatabase.offPool { self.stop() } }
}
