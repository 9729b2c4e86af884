import Foundation
import GRDB
import TestSupport
import Testing

@testable import ServerTestSupport

/// The real `custody` binary over HTTPS, driven by its own CLI client.
@Suite(.serialized) struct LiveServerTests {
    let bin = ServerProcess.binary

    func cli(_ s: ServerProcess, _ args: [String], token: String? = nil, stdin: String? = nil) throws -> (code: Int32, out: String, err: String) {
        var env = ["CUSTODY_SERVER": s.url, "CUSTODY_CA_FILE": s.caFile]
        if let token { env["CUSTODY_TOKEN"] = token }
        return try runCommand(bin, args, env: env, stdin: stdin)
    }

    func json(_ r: (code: Int32, out: String, err: String)) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any], "\(r.out) \(r.err)")
    }

    /// Logs the bootstrap admin in through the CLI and does the forced change; returns the token.
    func adminToken(_ s: ServerProcess) throws -> String? {
        let token = try json(try cli(s, ["login", "--username", "admin", "--json"], stdin: s.initialPassword + "\n"))["token"] as? String
        #expect(try cli(s, ["user", "password"], token: token, stdin: "\(s.initialPassword)\nCli-Keeper-Pass-1\n").code == 0)
        return token
    }

    @Test func firstStartLoginChangeCreateAndReadBackWithNoPlaintextAtRest() async throws {
        let s = ServerProcess()
        #expect(try s.start(), "server did not start: \(s.stderr)")
        defer { s.stop() }
        #expect(!s.initialPassword.isEmpty)
        let onDisk = try String(contentsOfFile: s.dataDir + "/initial-admin-password", encoding: .utf8)
        #expect(onDisk.trimmingCharacters(in: .whitespacesAndNewlines) == s.initialPassword)
        let mode = (try FileManager.default.attributesOfItem(atPath: s.dataDir + "/initial-admin-password")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)

        let login = try cli(s, ["login", "--username", "admin", "--json"], stdin: s.initialPassword + "\n")
        #expect(login.code == 0, "\(login.err)")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(login.out.utf8)) as? [String: Any])?["token"] as? String)
        let blocked = try cli(s, ["resource", "list"], token: token)
        #expect(blocked.code != 0 && blocked.err.contains("password_change_required"))
        let newAdmin = "Live-Keeper-Pass-\(UUID().uuidString.prefix(6))"
        let changed = try cli(s, ["user", "password"], token: token, stdin: "\(s.initialPassword)\n\(newAdmin)\n")
        #expect(changed.code == 0, "\(changed.out) \(changed.err)")

        let created = try cli(s, ["resource", "create", "--name", "live01", "--dns-name", "live01.example.test", "--type", "Linux", "--json"], token: token)
        #expect(created.code == 0, "\(created.err)")
        let rid = try #require((try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as? [String: Any])?["id"] as? String)
        let stored = "Zz9-\(UUID().uuidString)-plaintext-canary"
        let acc = try cli(s, ["account", "create", "--resource", rid, "--login-name", "root", "--json"], token: token, stdin: stored + "\n")
        #expect(acc.code == 0, "\(acc.err)")
        let aid = try #require((try JSONSerialization.jsonObject(with: Data(acc.out.utf8)) as? [String: Any])?["id"] as? String)
        let got = try cli(s, ["password", "get", "--resource", rid, "--account", aid, "--reason", "live test"], token: token)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == stored)
        let table = try cli(s, ["resource", "list"], token: token)
        #expect(table.out.contains("NAME") && table.out.contains("live01"))

        // At rest, in logs and in the process list: never the stored password.
        let ps = try runCommand("/bin/ps", ["-eo", "args"])
        #expect(!ps.out.contains(stored))
        for file in try FileManager.default.subpathsOfDirectory(atPath: s.dataDir) {
            let data = FileManager.default.contents(atPath: s.dataDir + "/" + file) ?? Data()
            #expect(data.range(of: Data(stored.utf8)) == nil, "\(file) holds the plaintext password")
        }
        #expect(!s.stderr.contains(stored) && !s.stdout.contains(stored))
        #expect(s.stderr.contains("path=/api/v1/resources"), "request logs are missing")

        let metrics = try runCommand("/usr/bin/curl", ["-s", "--cacert", s.caFile, s.url + "/metrics"])
        #expect(metrics.code == 0)
        #expect(metrics.out.contains("hb_requests"), "no request metrics in /metrics")
        #expect(!metrics.out.contains(stored))
        let health = try runCommand("/usr/bin/curl", ["-s", "--tls-max", "1.2", "--cacert", s.caFile, s.url + "/healthz"])
        #expect(health.out == "ok")

        #expect(s.stop() == 0, "graceful shutdown failed")
        let verify = try runCommand(bin, ["audit", "verify", "--data-dir", s.dataDir])
        #expect(verify.code == 0 && verify.out.contains("intact"), "\(verify.out) \(verify.err)")
    }

    @Test func theServerRefusesAKeyReadableByOthersAndRestartsWithTheSameVault() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        s.stop()
        chmod(s.dataDir + "/master.key", 0o644)
        let refused = ServerProcess(dataDir: s.dataDir)
        #expect(try !refused.start(timeout: 20))
        #expect(refused.process.terminationStatus == 2)
        #expect(refused.stderr.contains("readable by group or others"))
        chmod(s.dataDir + "/master.key", 0o600)
        let again = ServerProcess(dataDir: s.dataDir)
        #expect(try again.start())
        #expect(again.initialPassword.isEmpty, "a restart must not create a second admin")
        again.stop()
    }

    @Test func aSecondProcessCannotOpenARunningServersDataDirectory() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        defer { s.stop() }
        let second = ServerProcess(dataDir: s.dataDir)
        #expect(try !second.start(timeout: 20))
        #expect(second.stderr.contains("another custody process"))
        let rotate = try runCommand(bin, ["key", "rotate", "--data-dir", s.dataDir])
        #expect(rotate.code == 2 && rotate.err.contains("another custody process"))
    }

    @Test func keyRotateReencryptsAStoppedVaultThatThenStillServesItsPasswords() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        let login = try cli(s, ["login", "--username", "admin", "--json"], stdin: s.initialPassword + "\n")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(login.out.utf8)) as? [String: Any])?["token"] as? String)
        #expect(try cli(s, ["user", "password"], token: token, stdin: "\(s.initialPassword)\nRotate-Keeper-Pass-1\n").code == 0)
        let created = try cli(s, ["resource", "create", "--name", "rot", "--dns-name", "rot", "--type", "Linux", "--json"], token: token)
        let rid = try #require((try JSONSerialization.jsonObject(with: Data(created.out.utf8)) as? [String: Any])?["id"] as? String)
        let acc = try cli(s, ["account", "create", "--resource", rid, "--login-name", "root", "--json"], token: token, stdin: "Before-Rotation-9\n")
        let aid = try #require((try JSONSerialization.jsonObject(with: Data(acc.out.utf8)) as? [String: Any])?["id"] as? String)
        s.stop()
        let keyBefore = try Data(contentsOf: URL(fileURLWithPath: s.dataDir + "/master.key"))
        let rotate = try runCommand(bin, ["key", "rotate", "--data-dir", s.dataDir])
        #expect(rotate.code == 0, "\(rotate.out) \(rotate.err)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.dataDir + "/master.key")) != keyBefore)
        let again = ServerProcess(dataDir: s.dataDir)
        #expect(try again.start())
        defer { again.stop() }
        let relogin = try cli(again, ["login", "--username", "admin", "--json"], stdin: "Rotate-Keeper-Pass-1\n")
        let token2 = try #require((try JSONSerialization.jsonObject(with: Data(relogin.out.utf8)) as? [String: Any])?["token"] as? String)
        let got = try cli(again, ["password", "get", "--resource", rid, "--account", aid], token: token2)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == "Before-Rotation-9")
        again.stop()
        #expect(try runCommand(bin, ["audit", "verify", "--data-dir", s.dataDir]).code == 0)
    }

    @Test(.needsTestTargets)
    func theCLIResetsAndVerifiesAPasswordOnTheRealSSHServer() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        defer { s.stop() }
        let login = try cli(s, ["login", "--username", "admin", "--json"], stdin: s.initialPassword + "\n")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(login.out.utf8)) as? [String: Any])?["token"] as? String)
        #expect(try cli(s, ["user", "password"], token: token, stdin: "\(s.initialPassword)\nCli-Keeper-Pass-1\n").code == 0)
        func id(_ r: (code: Int32, out: String, err: String)) throws -> String {
            try #require((try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])?["id"] as? String, "\(r.err)")
        }
        let rid = try id(try cli(s, ["resource", "create", "--name", "cli-ssh", "--dns-name", "127.0.0.1", "--type", "Linux", "--json"], token: token))
        _ = try cli(s, ["account", "create", "--resource", rid, "--login-name", TestTargets.sudoUser, "--json"], token: token,
            stdin: TestTargets.sudoPassword + "\n")
        let user = TestTargets.target("cli1", password: "Cli-Old-Pass-1")
        let aid = try id(try cli(s, ["account", "create", "--resource", rid, "--login-name", user, "--json"], token: token, stdin: "Cli-Old-Pass-1\n"))
        let cfg = s.dataDir + ".reset.json"
        try #"{"mode":"agentless","protocol":"ssh","port":\#(TestTargets.sshPort),"loginAccount":"\#(TestTargets.sudoUser)","elevation":"sudo"}"#
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        #expect(try cli(s, ["reset-config", "set", "--resource", rid, cfg], token: token).code == 0)
        let reset = try cli(s, ["password", "reset", "--resource", rid, "--account", aid, "--wait", "60"], token: token)
        #expect(reset.code == 0 && reset.out.contains("succeeded"), "\(reset.out) \(reset.err)")
        let got = try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: token).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(TestTargets.passwordWorks(user, got))
        let verify = try cli(s, ["password", "verify", "--resource", rid, "--account", aid, "--wait", "60"], token: token)
        #expect(verify.code == 0 && verify.out.contains("succeeded"), "\(verify.out) \(verify.err)")
        #expect(try cli(s, ["task", "list"], token: token).out.contains("succeeded"))
        #expect(!s.stderr.contains(got) && !s.stdout.contains(got))
    }

    @Test func auditVerifyExitsOneAndNamesTheRecordAfterTampering() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        _ = try runCommand("/usr/bin/curl", ["-s", "--cacert", s.caFile, "-H", "Content-Type: application/json",
            "-d", #"{"username":"admin","password":"wrong"}"#, s.url + "/api/v1/auth/login"])
        s.stop()
        _ = try runCommand("/usr/bin/sqlite3", [s.dataDir + "/custody.sqlite",
            "DROP TRIGGER auditNoUpdate; UPDATE audit SET user = 'someone-else' WHERE id = 1;"])
        let verify = try runCommand(bin, ["audit", "verify", "--data-dir", s.dataDir])
        #expect(verify.code == 1)
        #expect(verify.out.contains("record 1"))
    }

    /// The listener CLI against the real server: add, approve by a second administrator, a change
    /// runs it, disable stops it.
    @Test func theListenerCLIAddsApprovesAndDisablesWithDualControl() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        defer { s.stop() }
        let token = try adminToken(s)
        // Two-person control: the approver is made by another super-administrator, not by the author.
        #expect(try cli(s, ["user", "create", "--username", "keeper2", "--role", "administrator", "--super-admin"], token: token,
            stdin: "Keeper-Init-Pass-1\n").code == 0)
        let keeper = try json(try cli(s, ["login", "--username", "keeper2", "--json"], stdin: "Keeper-Init-Pass-1\n"))["token"] as? String
        #expect(try cli(s, ["user", "password"], token: keeper, stdin: "Keeper-Init-Pass-1\nKeeper-Real-Pass-1\n").code == 0)
        let made = try cli(s, ["user", "create", "--username", "approver2", "--role", "administrator"], token: keeper, stdin: "Second-Init-Pass-1\n")
        #expect(made.code == 0, "\(made.out) \(made.err)")
        let second = try json(try cli(s, ["login", "--username", "approver2", "--json"], stdin: "Second-Init-Pass-1\n"))["token"] as? String
        #expect(try cli(s, ["user", "password"], token: second, stdin: "Second-Init-Pass-1\nSecond-Real-Pass-1\n").code == 0)
        let rid = try json(try cli(s, ["resource", "create", "--name", "cli-l", "--dns-name", "h.example.test", "--type", "Generic", "--json"],
            token: token))["id"] as? String ?? ""
        let aid = try json(try cli(s, ["account", "create", "--resource", rid, "--login-name", "app", "--json"], token: token,
            stdin: "App-Old-Pass-1\n"))["id"] as? String ?? ""
        let out = s.dataDir + ".listener-out"
        let script = s.dataDir + ".listener.sh"
        try "#!/bin/sh\nread -r line\necho \"$1 $3\" >> \(out)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let added = try cli(s, ["listener", "add", "--name", "notify app", "--type", "Generic", "--script", script, "--approver", "approver2", "--json"],
            token: token)
        #expect(try json(added)["status"] as? String == "pendingApproval")
        let own = try cli(s, ["listener", "approve", "notify app"], token: token)
        #expect(own.code != 0 && own.err.contains("may not approve"), "\(own.err)")
        #expect(try cli(s, ["listener", "approve", "notify app"], token: second).code == 0)
        #expect(try cli(s, ["listener", "list"], token: token).out.contains("active"))
        #expect(try cli(s, ["password", "set", "--resource", rid, "--account", aid], token: token, stdin: "Ap9-New!Pass-2026-x\n").code == 0)
        var ran = ""
        for _ in 0..<200 where ran.isEmpty {
            ran = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ran == "cli-l app\n")
        #expect(try cli(s, ["listener", "disable", "notify app"], token: token).code == 0)
        // Runs are queued in the change's own transaction: the server's database, read beside it,
        // gains no run with the second change, so none is to come.
        func runs() throws -> Int? {
            var c = Configuration()
            c.readonly = true
            return try DatabaseQueue(path: s.dataDir + "/custody.sqlite", configuration: c).read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM listenerRuns") }
        }
        let before = try runs()
        #expect(try cli(s, ["password", "set", "--resource", rid, "--account", aid], token: token, stdin: "Ap9-New!Pass-2026-y\n").code == 0)
        #expect(try runs() == before, "a disabled listener was queued")
        #expect(try String(contentsOfFile: out, encoding: .utf8) == "cli-l app\n", "a disabled listener ran")
        #expect(!s.stderr.contains("Ap9-New!Pass"))
    }

    @Test(.needs("the test SMTP server, aiosmtpd (make deps)", MailServer.available))
    func theNotifyCLIConfiguresSTARTTLSMailAndTheServerDeliversAChange() async throws {
        let s = ServerProcess()
        #expect(try s.start())
        defer { s.stop() }
        let token = try adminToken(s)
        let tag = UUID().uuidString.prefix(8).lowercased()
        let mailbox = "owner-\(tag)@example.test"
        let made = try cli(s, ["user", "create", "--username", "owner", "--role", "passwordAdministrator", "--email", mailbox], token: token,
            stdin: "Keeper-Init-Pass-1\n")
        #expect(made.code == 0, "\(made.out) \(made.err)")
        let settings = s.dataDir + ".notify.json"
        try """
            {"smtp": {"host": "localhost", "port": \(MailServer.startTLSPort), "security": "starttls", "username": "\(MailServer.user)",
              "from": "custody@example.test", "caFile": "\(MailServer.caFile)"}, "serverName": "live-vault"}
            """.write(toFile: settings, atomically: true, encoding: .utf8)
        let saved = try cli(s, ["notify", "configure", "--file", settings, "--ask-smtp-password"], token: token, stdin: MailServer.password + "\n")
        #expect(saved.code == 0, "\(saved.out) \(saved.err)")
        let shown = try cli(s, ["notify", "show"], token: token)
        #expect(shown.out.contains("\"passwordSet\" : true") || shown.out.contains("\"passwordSet\": true"), "\(shown.out)")
        let probe = "probe-\(tag)@example.test"
        let test = try cli(s, ["notify", "test", "--email", probe], token: token)
        #expect(test.code == 0 && test.out.contains("sent"), "\(test.out) \(test.err)")
        #expect(await MailServer.await(to: probe)?.auth == true)

        // A change queues a notification; the server's sender delivers it to the owner of the resource.
        let ownerToken = try json(try cli(s, ["login", "--username", "owner", "--json"], stdin: "Keeper-Init-Pass-1\n"))["token"] as? String
        #expect(try cli(s, ["user", "password"], token: ownerToken, stdin: "Keeper-Init-Pass-1\nKeeper-Real-Pass-1\n").code == 0)
        let rid = try json(try cli(s, ["resource", "create", "--name", "mail-\(tag)", "--dns-name", "h.example.test", "--type", "Generic", "--json"],
            token: ownerToken))["id"] as? String ?? ""
        let aid = try json(try cli(s, ["account", "create", "--resource", rid, "--login-name", "svc", "--json"], token: ownerToken,
            stdin: "Old-Secret-Pass-1\n"))["id"] as? String ?? ""
        let set = try cli(s, ["password", "set", "--resource", rid, "--account", aid, "--reason", "live mail"], token: ownerToken, stdin: "Rotated-Pass-9x\n")
        #expect(set.code == 0, "\(set.out) \(set.err)")
        let mail = try #require(await MailServer.await(to: mailbox, containing: "Password changed: mail-\(tag) / svc"))
        #expect(mail.tls && mail.auth)
        #expect(!mail.content.contains("Rotated-Pass-9x") && !mail.content.contains("Old-Secret-Pass-1"))
        let listed = try cli(s, ["notify", "list", "--state", "sent"], token: token)
        #expect(listed.out.contains(mailbox), "\(listed.out)")
        for file in try FileManager.default.subpathsOfDirectory(atPath: s.dataDir) {
            let data = FileManager.default.contents(atPath: s.dataDir + "/" + file) ?? Data()
            #expect(data.range(of: Data(MailServer.password.utf8)) == nil, "\(file) holds the SMTP password")
        }
        #expect(!s.stderr.contains(MailServer.password))
    }
}

extension LiveServerTests {
    /// A client that connects and sends nothing, stops in the middle of a request, or sends
    /// garbage is cut off (after `httpIdleSeconds`) and holds nothing after.
    @Test func idleStalledAndGarbageConnectionsAreClosed() async throws {
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-idle-\(UUID().uuidString)").path
        let conf = dir + ".yaml"
        try "httpIdleSeconds: 2\n".write(toFile: conf, atomically: true, encoding: .utf8)
        let s = ServerProcess(dataDir: dir, env: ["CUSTODY_CONFIG": conf])
        #expect(try s.start(), "server did not start: \(s.stderr)")
        defer { s.stop() }
        func closedAfter(_ input: String) throws -> (Double, String) {
            let start = Date()
            let r = try runCommand("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(s.port)", "-quiet", "-ign_eof"], stdin: input,
                timeout: 20)
            return (Date().timeIntervalSince(start), r.out + r.err)
        }
        let (silent, _) = try closedAfter("")
        #expect(silent >= 1.5 && silent < 10, "connected, sent nothing: closed after \(silent) s")
        let (stalled, said) = try closedAfter("POST /agent/v1/poll HTTP/1.1\r\nHost: localhost\r\nContent-Length: 40\r\n\r\n{\"wait\":")
        #expect(stalled >= 1.5 && stalled < 10, "stopped in the middle of a body: closed after \(stalled) s")
        #expect(!said.contains("HTTP/1.1 200"))
        let (garbage, _) = try closedAfter("\u{16}\u{03}\u{01}garbage that is not a request\r\n\r\n")
        #expect(garbage < 10)
    }
}
