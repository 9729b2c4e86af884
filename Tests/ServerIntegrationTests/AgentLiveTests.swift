import Foundation
import Testing

@testable import ServerTestSupport
import TestSupport

/// The real `custody` and `custody-agent` processes: a bundle made by the CLI, unpacked with tar,
/// enrolls and changes a real local user's password; a killed agent's change reconciles; a server
/// restart during a long poll is survived; a revoked agent is refused.
@Suite(.serialized, .needs("root and chpasswd", getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/chpasswd")))
struct AgentLiveTests {
    let bin = ServerProcess.binary

    struct Env {
        let server: ServerProcess
        let token: String
        let dir: String
        let rid: String
        let aid: String
        let user: String
    }

    func cli(_ s: ServerProcess, _ args: [String], token: String?, stdin: String? = nil) throws -> (code: Int32, out: String, err: String) {
        var env = ["CUSTODY_SERVER": s.url, "CUSTODY_CA_FILE": s.caFile]
        if let token { env["CUSTODY_TOKEN"] = token }
        return try runCommand(bin, args, env: env, stdin: stdin)
    }

    func json(_ r: (code: Int32, out: String, err: String)) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out) \(r.err)")
    }

    /// A server with short leases, a real local user as an account of an agent-mode resource, and its bundle unpacked.
    func setUp(port: Int = 0) throws -> Env {
        let dir = TestTargets.scratch + "/agent-live-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "agentLeaseSeconds: 3\nagentLongPollSeconds: 5\n".write(toFile: dir + "/custody.yaml", atomically: true, encoding: .utf8)
        let s = ServerProcess(extraArgs: ["--config", dir + "/custody.yaml"] + (port > 0 ? ["--port", String(port)] : []))
        #expect(try s.start(), "\(s.stderr)")
        let token = try #require(try json(try cli(s, ["login", "--username", "admin", "--json"], token: nil, stdin: s.initialPassword + "\n"))["token"] as? String)
        #expect(try cli(s, ["user", "password"], token: token, stdin: "\(s.initialPassword)\nAgent-Keeper-Pass-1\n").code == 0)
        let user = "cagent\(UInt32.random(in: 1000...99999))"
        TestTargets.user(user, "Start-Pass-1x")
        let rid = try #require(try json(try cli(s, ["resource", "create", "--name", "host-\(user)", "--dns-name", "host-\(user).example.test",
            "--type", "Linux", "--json"], token: token))["id"] as? String)
        let aid = try #require(try json(try cli(s, ["account", "create", "--resource", rid, "--login-name", user, "--json"], token: token,
            stdin: "Start-Pass-1x\n"))["id"] as? String)
        try #"{"mode": "agent"}"#.write(toFile: dir + "/reset.json", atomically: true, encoding: .utf8)
        #expect(try cli(s, ["reset-config", "set", "--resource", rid, dir + "/reset.json"], token: token).code == 0)
        let none = try cli(s, ["password", "reset", "--resource", rid, "--account", aid], token: token)
        #expect(none.code != 0 && none.err.contains("no_agent"), "without an agent: \(none.err)")
        let pkg = try cli(s, ["agent", "package", "--resource", rid, "--output", dir + "/bundle.tar.gz"], token: token)
        #expect(pkg.code == 0, "\(pkg.out) \(pkg.err)")
        #expect(try runCommand("/bin/tar", ["xzf", dir + "/bundle.tar.gz", "-C", dir]).code == 0)
        return Env(server: s, token: token, dir: dir, rid: rid, aid: aid, user: user)
    }

    func startAgent(_ e: Env, env extra: [String: String] = [:]) throws -> Child {
        let log = e.dir + "/agent.log"
        return try Child(e.dir + "/custody-agent/custody-agent", ["run", "--config", e.dir + "/custody-agent/Agent.conf"],
            env: extra, stdout: log, stderr: log)
    }

    func agentLog(_ e: Env) -> String { (try? String(contentsOfFile: e.dir + "/agent.log", encoding: .utf8)) ?? "" }

    func until(_ what: String, seconds: Double = 90, _ condition: () throws -> Bool) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        Issue.record("timed out: \(what)")
    }

    func task(_ e: Env, _ args: [String]) throws -> [String: Any] {
        let r = try cli(e.server, args + ["--resource", e.rid, "--account", e.aid, "--wait", "60", "--json"], token: e.token)
        return try json(r)
    }

    func stored(_ e: Env) throws -> String {
        try cli(e.server, ["password", "get", "--resource", e.rid, "--account", e.aid, "--reason", "agent test"], token: e.token).out
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func shadow(_ user: String) -> String { TestTargets.sh("getent shadow \(user) | cut -d: -f2") }

    @Test func aBundleEnrollsTheAgentWhichResetsAndVerifiesARealLocalUser() throws {
        let e = try setUp()
        defer { e.server.stop() }
        for f in ["Agent.conf", "install.sh", "server.crt", "custody-agent"] {
            #expect(FileManager.default.fileExists(atPath: e.dir + "/custody-agent/" + f), "bundle lacks \(f)")
        }
        let agent = try startAgent(e)
        defer { agent.terminate() }
        try until("the agent enrolls") { try cli(e.server, ["agent", "list"], token: e.token).out.contains("online") }
        let reset = try task(e, ["password", "reset"])
        #expect(reset["state"] as? String == "succeeded", "\(reset) \(agentLog(e))")
        let now = try stored(e)
        #expect(now != "Start-Pass-1x" && TestTargets.passwordWorks(e.user, now), "the vault and /etc/shadow agree")
        let verify = try task(e, ["password", "verify"])
        #expect(verify["state"] as? String == "succeeded", "\(verify)")
        TestTargets.setPassword(e.user, "Changed-Behind-1x")
        let outOfSync = try task(e, ["password", "verify"])
        #expect((outOfSync["result"] as? [String: Any])?["code"] as? String == "authenticationFailed", "\(outOfSync)")
        let mode = (try FileManager.default.attributesOfItem(atPath: e.dir + "/custody-agent/data/identity.json")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
        #expect(!agentLog(e).contains(now) && !agentLog(e).contains("Start-Pass-1x"), "no password in the agent's log")
        agent.terminate()
        agent.waitUntilExit()
        #expect(agent.terminationStatus == 0, "SIGTERM stops the agent gracefully")
    }

    @Test func anAgentKilledMidChangeIsReconciledThroughItsVerify() throws {
        let e = try setUp()
        defer { e.server.stop() }
        let before = shadow(e.user)
        let holding = try startAgent(e, env: ["CUSTODY_AGENT_TEST_HOLD_SECONDS": "60"])
        try until("the agent enrolls") { try cli(e.server, ["agent", "list"], token: e.token).out.contains("online") }
        let queued = try json(try cli(e.server, ["password", "reset", "--resource", e.rid, "--account", e.aid, "--json"], token: e.token))
        let taskID = try #require(queued["id"] as? String, "\(queued)")
        try until("the change on the host") { shadow(e.user) != before }
        kill(holding.processIdentifier, SIGKILL)
        holding.waitUntilExit()
        // The lease runs out (3 s): the reset is in doubt and waits for a verify by the agent.
        try until("the reset goes to reconcile") {
            let t = try json(try cli(e.server, ["task", "show", taskID, "--json"], token: e.token))
            return (t["phase"] as? String) == "reconcile" || (t["state"] as? String) == "unknown"
        }
        let again = try startAgent(e)
        defer { again.terminate() }
        try until("the reconcile commits") {
            try json(try cli(e.server, ["task", "show", taskID, "--json"], token: e.token))["state"] as? String == "succeeded"
        }
        let now = try stored(e)
        #expect(TestTargets.passwordWorks(e.user, now), "the vault holds the password the host has")
    }

    @Test func theAgentOutlivesAServerRestartDuringALongPollAndARevokedAgentIsRefused() throws {
        let port = TestTargets.freePort()
        let e = try setUp(port: port)
        var server = e.server
        defer { server.stop() }
        let agent = try startAgent(e)
        defer { agent.terminate() }
        try until("the agent enrolls") { try cli(server, ["agent", "list"], token: e.token).out.contains("online") }
        try until("the agent holds a long poll") {
            try cli(server, ["agent", "list", "--json"], token: e.token).out.range(of: #""longPolling"\s*:\s*true"#, options: .regularExpression) != nil
        }
        server.stop()
        server = ServerProcess(dataDir: e.server.dataDir, extraArgs: ["--config", e.dir + "/custody.yaml", "--port", String(port)])
        #expect(try server.start(), "\(server.stderr)")
        let restarted = Env(server: server, token: e.token, dir: e.dir, rid: e.rid, aid: e.aid, user: e.user)
        let reset = try task(restarted, ["password", "reset"])
        #expect(reset["state"] as? String == "succeeded", "\(reset) \(agentLog(e))")
        let listed = try cli(server, ["agent", "list", "--json"], token: e.token)
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(listed.out.utf8)) as? [[String: Any]])?.first)?["id"] as? String)
        #expect(try cli(server, ["agent", "revoke", id], token: e.token).code == 0)
        try until("the revoked agent stops") { !agent.isRunning }
        #expect(agentLog(e).contains("revoked"))
        let refused = try cli(server, ["password", "reset", "--resource", e.rid, "--account", e.aid], token: e.token)
        #expect(refused.code != 0 && refused.err.contains("no_agent"), "\(refused.err)")
    }

    /// No systemd runs here, so the script's non-systemd path runs for real and its unit file is checked.
    @Test func theBundleInstallScriptInstallsStartsStopsAndRemovesTheAgent() throws {
        let e = try setUp()
        defer { e.server.stop() }
        let root = e.dir + "/root"
        let env = ["CUSTODY_AGENT_PREFIX": root + "/opt/custody-agent", "CUSTODY_AGENT_UNIT_DIR": root + "/units", "CUSTODY_AGENT_NO_SYSTEMD": "1"]
        let script = e.dir + "/custody-agent/install.sh"
        // posix_spawn, not Foundation's Process: the agent started in the background keeps the
        // descriptors Foundation watches for its child's exit.
        func sh(_ verb: String) -> (status: Int32, out: String) { Spawn.run(["/bin/sh", script, verb], env: env) }
        let install = sh("install")
        #expect(install.status == 0, "\(install.out)")
        let unit = try String(contentsOfFile: root + "/units/custody-agent.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=\(root)/opt/custody-agent/custody-agent run --config \(root)/opt/custody-agent/Agent.conf"))
        #expect(unit.contains("Restart=always"))
        let conf = try String(contentsOfFile: root + "/opt/custody-agent/Agent.conf", encoding: .utf8)
        #expect(conf.contains("DataDir=\(root)/opt/custody-agent/data") && conf.contains("CACertificate=\(root)/opt/custody-agent/server.crt"))
        let mode = (try FileManager.default.attributesOfItem(atPath: root + "/opt/custody-agent/Agent.conf")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600, "the enrollment token is readable by root only")
        #expect(sh("start").status == 0)
        try until("the installed agent enrolls") { try cli(e.server, ["agent", "list"], token: e.token).out.contains("online") }
        #expect(sh("status").out.contains("running"))
        let reset = try task(e, ["password", "reset"])
        #expect(reset["state"] as? String == "succeeded", "\(reset)")
        #expect(sh("stop").status == 0)
        #expect(sh("status").status == 3)
        #expect(sh("remove").status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/opt/custody-agent") && !FileManager.default.fileExists(atPath: root + "/units/custody-agent.service"))
        #expect(sh("bogus").status == 2)
    }
}
