import Foundation
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// A real `custody-agent` enrolled through node b long-polls node b; a reset queued through node a
/// reaches it within its long poll (the database's `NOTIFY`), and its answer reaches the reset
/// waiting on node a the same way.
@Suite(.serialized) struct PGAgentLiveTests {
    let live = PGNodesLiveTests()

    @Test func aJobQueuedThroughOneNodeReachesAnAgentPollingAnother() async throws {
        let name = try await PGTestDatabase.create()
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-agent-pg-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Long polls of 20 s: a job seen only when a poll ends would take far longer than the bound below.
        try "agentLeaseSeconds: 3\nagentLongPollSeconds: 20\n".write(toFile: dir + "/custody.yaml", atomically: true, encoding: .utf8)
        var nodes: [ServerProcess] = []
        for id in ["node-a", "node-b"] {
            let url = "postgres://\(PGTestDatabase.role)@127.0.0.1:\(PostgresServer.port)/\(name)?sslmode=verify-full&sslrootcert=\(PostgresServer.caFile)"
            let n = ServerProcess(extraArgs: ["--store-url", url, "--master-key-file", dir + "/master.key"],
                env: ["CUSTODY_STORE_PASSWORD": PGTestDatabase.password, "CUSTODY_NODE_NAME": id, "CUSTODY_CONFIG": dir + "/custody.yaml"])
            #expect(await PGTestDatabase.offPool { (try? n.start()) ?? false }, "\(id): \(n.stderr)")
            nodes.append(n)
        }
        defer { for n in nodes { n.stop() } }
        let (a, b) = (nodes[0], nodes[1])
        let token = try #require(try live.json(try await live.cli(a, ["login", "--username", "admin", "--json"], stdin: a.initialPassword + "\n"))["token"]
            as? String)
        #expect(try await live.cli(a, ["user", "password"], token: token, stdin: "\(a.initialPassword)\nAgent-Cluster-Pass-1\n").code == 0)
        let user = "cpgagent\(UInt32.random(in: 1000...99999))"
        await PGTestDatabase.offPool { TestTargets.user(user, "Start-Pass-1x") }
        let rid = try #require(try live.json(try await live.cli(a, ["resource", "create", "--name", "host-\(user)", "--dns-name", "host-\(user).example.test",
            "--type", "Linux", "--json"], token: token))["id"] as? String)
        let aid = try #require(try live.json(try await live.cli(a, ["account", "create", "--resource", rid, "--login-name", user, "--json"], token: token,
            stdin: "Start-Pass-1x\n"))["id"] as? String)
        try #"{"mode": "agent"}"#.write(toFile: dir + "/reset.json", atomically: true, encoding: .utf8)
        #expect(try await live.cli(a, ["reset-config", "set", "--resource", rid, dir + "/reset.json"], token: token).code == 0)

        // The bundle comes from node b: the agent talks to b only.
        let pkg = try await live.cli(b, ["agent", "package", "--resource", rid, "--output", dir + "/bundle.tar.gz"], token: token)
        #expect(pkg.code == 0, "\(pkg.out) \(pkg.err)")
        #expect(try await live.run("/bin/tar", ["xzf", dir + "/bundle.tar.gz", "-C", dir]).code == 0)
        let log = dir + "/agent.log"
        let agent = try Child(dir + "/custody-agent/custody-agent", ["run", "--config", dir + "/custody-agent/Agent.conf"], stdout: log, stderr: log)
        defer { agent.terminate() }
        var online = false
        for _ in 0..<150 where !online {
            online = try await live.cli(a, ["agent", "list"], token: token).out.contains("online")
            if !online { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(online, "the agent enrolled through b is seen through a")
        var polling = false
        for _ in 0..<100 where !polling {  // the agent is in a long poll on b now
            polling = try await live.cli(b, ["agent", "list", "--json"], token: token).out.range(of: #""longPolling"\s*:\s*true"#, options: .regularExpression) != nil
            if !polling { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(polling, "the agent holds a long poll on b")

        let started = Date()
        let reset = try live.json(try await live.cli(a, ["password", "reset", "--resource", rid, "--account", aid, "--wait", "60", "--json"],
            token: token))
        let took = Date().timeIntervalSince(started)
        #expect(reset["state"] as? String == "succeeded", "\(reset) \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        #expect(took < 10, "queued through a, taken by the agent polling b and answered within \(took) s, well inside one 20 s long poll")
        let now = try await live.cli(b, ["password", "get", "--resource", rid, "--account", aid, "--reason", "agent test"], token: token).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(now != "Start-Pass-1x" && TestTargets.passwordWorks(user, now), "the vault and /etc/shadow agree")
        agent.terminate()
        for n in nodes { #expect(await n.stopped() == 0) }
    }
}
