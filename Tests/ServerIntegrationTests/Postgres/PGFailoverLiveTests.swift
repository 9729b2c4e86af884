import Foundation
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// Three real nodes on one PostgreSQL database rotate 21 real accounts (sshd, sudo) and one node is
/// killed with SIGKILL while it holds resets: the others finish or reconcile every one, the run's
/// report is complete, and every account's password in the vault works on the target.
@Suite(.serialized) struct PGFailoverLiveTests {
    let live = PGNodesLiveTests()

    func call(_ s: ServerProcess, _ method: String, _ path: String, token: String, body: String? = nil) async throws -> [String: Any] {
        var args = ["-s", "--cacert", s.caFile, "-X", method, "-H", "Authorization: Bearer \(token)", s.url + "/api/v1" + path]
        if let body { args += ["-H", "Content-Type: application/json", "-d", body] }
        let r = try await live.run("/usr/bin/curl", args)
        return try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(method) \(path): \(r.out)")
    }

    @Test func aNodeKilledMidRotationLosesNoPassword() async throws {
        // The test sshd: these resets need it up (sshPort alone does not start it).
        let ready = await PGTestDatabase.offPool { TestTargets.ready }
        try #require(ready.available, "the test sshd: \(ready.why)")
        let sshPort = TestTargets.sshPort
        let name = try await PGTestDatabase.create()
        let keyDir = TestTargets.scratchURL.appendingPathComponent("custody-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let config = keyDir + "/config.yaml"
        try "nodeLeaseSeconds: 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        var nodes: [ServerProcess] = []
        for id in ["node-a", "node-b", "node-c"] {
            let url = "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(name)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
            let n = ServerProcess(extraArgs: ["--store-url", url, "--master-key-file", keyDir + "/master.key"],
                env: ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password, "CUSTODY_NODE_NAME": id, "CUSTODY_CONFIG": config])
            #expect(await PGTestDatabase.offPool { (try? n.start()) ?? false }, "\(id) did not start: \(n.stderr)")
            nodes.append(n)
        }
        defer { for n in nodes { n.stop() } }
        let (a, b) = (nodes[0], nodes[1])
        let token = try #require(try live.json(try await live.cli(a, ["login", "--username", "admin", "--json"], stdin: a.initialPassword + "\n"))["token"]
            as? String)
        #expect(try await live.cli(a, ["user", "password"], token: token, stdin: "\(a.initialPassword)\nFailover-Keeper-1\n").code == 0)

        // One host, its sudo account and 20 accounts to rotate, all real local users on sshd.
        let rid = try #require(try live.json(try await live.cli(a, ["resource", "create", "--name", "fo01", "--dns-name", "127.0.0.1", "--type", "Linux",
            "--json"], token: token))["id"] as? String)
        // The login account rotates with the others (21 resets): a sudo user of this test's own.
        let admin = await PGTestDatabase.offPool { TestTargets.sudoTarget("fo_sudo", password: "Fo-Sudo-Pass-1") }
        let sudo = try #require(try live.json(try await live.cli(a, ["account", "create", "--resource", rid, "--login-name", admin,
            "--json"], token: token, stdin: "Fo-Sudo-Pass-1\n"))["id"] as? String)
        var accounts: [(user: String, id: String)] = [(admin, sudo)]
        for i in 0..<20 {
            let user = await PGTestDatabase.offPool { TestTargets.target("fo\(i)", password: "Fo-Old-Pass-\(i)") }
            let aid = try #require(try live.json(try await live.cli(a, ["account", "create", "--resource", rid, "--login-name", user, "--json"],
                token: token, stdin: "Fo-Old-Pass-\(i)\n"))["id"] as? String)
            accounts.append((user, aid))
        }
        let cfg = keyDir + "/reset.json"
        try #"{"mode":"agentless","protocol":"ssh","port":\#(sshPort),"loginAccount":"\#(admin)","elevation":"sudo"}"#
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        #expect(try await live.cli(a, ["reset-config", "set", "--resource", rid, cfg], token: token).code == 0)
        let gid = try #require(try await call(a, "POST", "/groups", token: token, body: #"{"name":"fo","resourceIds":["\#(rid)"]}"#)["id"] as? String)

        // The rotation starts through node a; node a dies (SIGKILL) while it holds resets.
        let runID = try #require(try await call(a, "POST", "/groups/\(gid)/rotation/run", token: token)["runId"] as? String)
        var held = 0
        for _ in 0..<300 where held == 0 {
            let view = try await call(b, "GET", "/cluster", token: token)
            held = ((view["nodes"] as? [[String: Any]]) ?? []).first { $0["id"] as? String == "node-a" }?["runningTasks"] as? Int ?? 0
            if held == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(held > 0, "node a held resets when it was killed")
        kill(a.process.processIdentifier, SIGKILL)

        // Nodes b and c take a's resets over once its lease lapses, and finish the run.
        var run: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(240)
        while ContinuousClock.now < deadline {
            run = try await call(b, "GET", "/rotation-runs/\(runID)", token: token)
            if run["state"] as? String == "finished" { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let summary = try #require(run["summary"] as? [String: Any], "\(run)")
        #expect(run["state"] as? String == "finished" && summary["total"] as? Int == 21 && summary["pending"] as? Int == 0, "\(run)")
        let taken = try await live.run("/bin/cat", [b.stdoutPath, b.stderrPath, nodes[2].stdoutPath, nodes[2].stderrPath])
        #expect(taken.out.contains("took over tasks whose hold lapsed"), "a surviving node took a's resets")

        // Not one password lost: what the vault holds for each account works on the host.
        for (user, aid) in accounts {
            let got = try await live.cli(b, ["password", "get", "--resource", rid, "--account", aid, "--reason", "failover test"], token: token)
            let password = got.out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(await PGTestDatabase.offPool { TestTargets.passwordWorks(user, password) }, "\(user): the vault's password does not work")
        }
        let vault = Vault(masterKey: try MasterKey.load(path: keyDir + "/master.key"))
        let store = try await PGTestDatabase.store(name: name, vault: vault)
        let verified = try await store.db.read { c in try await store.auditLog.verify(c) }
        #expect(verified.ok, "\(verified.problem ?? "")")
        for n in nodes { _ = await n.stopped() }
    }

    /// PostgreSQL stops for a few seconds under resets in flight: the nodes answer 503 on
    /// `/healthz` meanwhile, reconnect by themselves, no reset is left queued or running, and every
    /// account whose reset ended has a password in the vault that works on the host. A reset the
    /// outage interrupted resumes: none ends as "the task could not run" (`internalError`).
    @Test func thePostgreSQLServerRestartsUnderLoadAndNothingIsLost() async throws {
        let pg = PostgresInstance()
        #expect(await PGTestDatabase.offPool { pg.create() }, "a PostgreSQL of this test's own did not start")
        // The test sshd: these resets need it up (sshPort alone does not start it).
        let ready = await PGTestDatabase.offPool { TestTargets.ready }
        try #require(ready.available, "the test sshd: \(ready.why)")
        let sshPort = TestTargets.sshPort
        let keyDir = TestTargets.scratchURL.appendingPathComponent("custody-key-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: keyDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Short leases and retries: a reset the outage interrupted is tried again soon after, once the
        // node's heartbeat has renewed its lease on the database that came back.
        try "resetRetrySeconds: 1\nresetMaxAttempts: 8\nnodeLeaseSeconds: 8\nreconcileRetries: 20\n"
            .write(toFile: keyDir + "/config.yaml", atomically: true, encoding: .utf8)
        var nodes: [ServerProcess] = []
        for id in ["node-a", "node-b"] {
            let n = ServerProcess(extraArgs: ["--store-url", pg.url, "--master-key-file", keyDir + "/master.key"],
                env: ["CUSTODY_STORE_PASSWORD": pg.password, "CUSTODY_NODE_NAME": id, "CUSTODY_CONFIG": keyDir + "/config.yaml",
                    "CUSTODY_LOG_LEVEL": "debug"])
            #expect(await PGTestDatabase.offPool { (try? n.start()) ?? false }, "\(id): \(n.stderr)")
            nodes.append(n)
        }
        defer { for n in nodes { n.stop() } }
        let (a, b) = (nodes[0], nodes[1])
        let token = try #require(try live.json(try await live.cli(a, ["login", "--username", "admin", "--json"], stdin: a.initialPassword + "\n"))["token"]
            as? String)
        #expect(try await live.cli(a, ["user", "password"], token: token, stdin: "\(a.initialPassword)\nRestart-Keeper-1\n").code == 0)
        let rid = try #require(try live.json(try await live.cli(a, ["resource", "create", "--name", "rs01", "--dns-name", "127.0.0.1", "--type", "Linux",
            "--json"], token: token))["id"] as? String)
        let admin = await PGTestDatabase.offPool { TestTargets.sudoTarget("rs_sudo", password: "Rs-Sudo-Pass-1") }
        _ = try await live.cli(a, ["account", "create", "--resource", rid, "--login-name", admin, "--json"], token: token, stdin: "Rs-Sudo-Pass-1\n")
        var accounts: [(user: String, id: String)] = []
        for i in 0..<8 {
            let user = await PGTestDatabase.offPool { TestTargets.target("rs\(i)", password: "Rs-Old-Pass-\(i)") }
            let aid = try #require(try live.json(try await live.cli(a, ["account", "create", "--resource", rid, "--login-name", user, "--json"],
                token: token, stdin: "Rs-Old-Pass-\(i)\n"))["id"] as? String)
            accounts.append((user, aid))
        }
        let cfg = keyDir + "/reset.json"
        try #"{"mode":"agentless","protocol":"ssh","port":\#(sshPort),"loginAccount":"\#(admin)","elevation":"sudo"}"#
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        #expect(try await live.cli(a, ["reset-config", "set", "--resource", rid, cfg], token: token).code == 0)

        // Resets queued through both nodes, then the database goes away for ten seconds or so.
        var tasks: [String] = []
        for (i, (_, aid)) in accounts.enumerated() {
            let r = try await live.cli(i % 2 == 0 ? a : b, ["password", "reset", "--resource", rid, "--account", aid, "--json"], token: token)
            tasks.append(try #require(try live.json(r)["id"] as? String, "\(r.out) \(r.err)"))
        }
        #expect(await PGTestDatabase.offPool { pg.stop() }, "PostgreSQL stopped")
        let asked = ContinuousClock.now
        let down = try await live.run("/usr/bin/curl", ["-s", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", b.caFile,
            b.url + "/healthz"])
        #expect(down.out == "503", "/healthz while the database is down: \(down.out)")
        #expect(ContinuousClock.now - asked < .seconds(15), "/healthz answers at once (its database deadline is 2 s), not when the pool gives up")
        // An API call fails as 503 store_unavailable once its wait for a connection (30 s) ends.
        let api = try await live.run("/usr/bin/curl", ["-s", "--max-time", "75", "-w", " %{http_code}", "--cacert", b.caFile,
            "-H", "Authorization: Bearer \(token)", b.url + "/api/v1/resources"])
        #expect(api.out.hasSuffix(" 503") && api.out.contains("store_unavailable"), "an API call while the database is down: \(api.out)")
        #expect(await PGTestDatabase.offPool { pg.start() }, "PostgreSQL started again")

        // Every reset ends, through whichever node; every password in the vault works.
        var states: [String] = []
        var codes: [String] = []
        let deadline = ContinuousClock.now + .seconds(240)  // by the clock, however slow each look is
        while ContinuousClock.now < deadline {
            (states, codes) = ([], [])
            for id in tasks {
                let t = try? await call(b, "GET", "/tasks/\(id)", token: token)
                states.append(t?["state"] as? String ?? "?")
                codes.append((t?["result"] as? [String: Any])?["code"] as? String ?? "")
            }
            if states.allSatisfy({ ["succeeded", "failed", "cancelled", "unknown"].contains($0) }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let pgLog = keyDir + "/postgres.log"
        try? pg.log.write(toFile: pgLog, atomically: true, encoding: .utf8)
        #expect(states.allSatisfy { ["succeeded", "failed", "cancelled", "unknown"].contains($0) },
            "none left queued or running: \(states); logs: \(a.stderrPath) \(b.stderrPath) \(pgLog)")
        #expect(!codes.contains("internalError"), "a reset the outage interrupted resumes: \(zip(states, codes).map { "\($0)/\($1)" })")
        let up = try await live.run("/usr/bin/curl", ["-s", "--cacert", a.caFile, a.url + "/healthz"])
        #expect(up.out == "ok node=node-a store=postgres database=reachable")
        for ((user, aid), state) in zip(accounts, states) where state != "unknown" {
            let got = try await live.cli(a, ["password", "get", "--resource", rid, "--account", aid, "--reason", "restart test"], token: token)
            let password = got.out.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(await PGTestDatabase.offPool { TestTargets.passwordWorks(user, password) }, "\(user): the vault's password does not work")
        }
        for n in nodes { _ = await n.stopped() }
        await PGTestDatabase.offPool { pg.stop() }
    }
}
