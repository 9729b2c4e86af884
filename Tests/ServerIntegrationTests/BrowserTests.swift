import Foundation
import TestSupport
import Testing

@testable import ServerTestSupport

/// The console in a real browser: `Tests/Browser/console_flow.py` (headless Chromium through
/// Selenium) against the real `custody serve`, on the test sshd. Screenshots go to
/// `test-artifacts/screenshots`. Part of the serialized live suite: it starts the real server and
/// many processes, which must not overlap the other live tests' launches.
extension LiveServerTests {
    static let browserReady: Bool = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
        && Spawn.run(["/usr/bin/env", "python3", "-c", "import selenium"]).status == 0

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(.needs("chromium, chromedriver and selenium (make deps), and the test sshd", browserReady && TestTargets.ready.available))
    func theConsoleFlowsWorkInARealBrowser() async throws {
        let target = TestTargets.target("browser1", password: "Browser-Old-Pass-1")
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("browser-\(UUID().uuidString).yaml").path
        try "webRevealSeconds: 2\nbcryptCost: 10\n".write(toFile: config, atomically: true, encoding: .utf8)
        let s = ServerProcess(extraArgs: ["--config", config])
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let shots = Self.repoRoot.appendingPathComponent("test-artifacts/screenshots").path
        let admin = "Browser-Keeper-Pass-2026!"
        let run = try runCommand("/usr/bin/env", ["python3", Self.repoRoot.appendingPathComponent("Tests/Browser/console_flow.py").path], env: [
            "CUSTODY_URL": s.url, "CUSTODY_CA": s.caFile, "INITIAL_PASSWORD": s.initialPassword,
            "ADMIN_PASSWORD": admin, "SSH_PORT": "\(TestTargets.sshPort)", "LOGIN_USER": TestTargets.sudoUser,
            "LOGIN_PASSWORD": TestTargets.sudoPassword, "TARGET_USER": target, "TARGET_PASSWORD": "Browser-Old-Pass-1", "SHOTS": shots,
        ], timeout: 300)
        #expect(run.code == 0 && run.out.contains("ok"), "\(run.out)\n\(run.err)")
        // The reset really happened on sshd: the vault's password logs in, the old one no longer does.
        let env = ["CUSTODY_SERVER": s.url, "CUSTODY_CA_FILE": s.caFile]
        let login = try runCommand(ServerProcess.binary, ["login", "--username", "admin", "--json"], env: env, stdin: admin + "\n")
        let token = try #require((try JSONSerialization.jsonObject(with: Data(login.out.utf8)) as? [String: Any])?["token"] as? String)
        let list = try runCommand(ServerProcess.binary, ["resource", "list", "--json"], env: env.merging(["CUSTODY_TOKEN": token]) { $1 })
        let rid = try #require(((try JSONSerialization.jsonObject(with: Data(list.out.utf8))) as? [[String: Any]])?.first?["id"] as? String)
        let accounts = try runCommand(ServerProcess.binary, ["account", "list", "--resource", rid, "--json"], env: env.merging(["CUSTODY_TOKEN": token]) { $1 })
        let aid = try #require(((try JSONSerialization.jsonObject(with: Data(accounts.out.utf8))) as? [[String: Any]])?
            .first { $0["loginName"] as? String == target }?["id"] as? String)
        let got = try runCommand(ServerProcess.binary, ["password", "get", "--resource", rid, "--account", aid],
            env: env.merging(["CUSTODY_TOKEN": token]) { $1 }).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(got != "Browser-Old-Pass-1" && TestTargets.passwordWorks(target, got) && !TestTargets.passwordWorks(target, "Browser-Old-Pass-1"))
        for page in ["revealed", "task-reset", "audit", "phone-resources", "reset-config", "groups", "users"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(page).png"), "screenshot \(page)")
        }
    }
}

extension LiveServerTests {
    /// A domain user signs in on the console's sign-in page, unchanged, against the test domain
    /// controller: a wrong password refused in words, the right one with the role its nested group gives.
    @Test(.needs("chromium, chromedriver and selenium (make deps), and a Samba AD DC", browserReady && SambaDC.ready.available))
    func aDomainUserSignsInOnTheConsole() async throws {
        #expect(DirectorySignInTests.directory)
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let token = try #require(try adminToken(s))
        let file = TestTargets.scratch + "/browser-directory-\(UUID().uuidString).json"
        try JSONSerialization.data(withJSONObject: DirectorySignInTests.settings).write(to: URL(fileURLWithPath: file))
        let saved = try cli(s, ["directory", "configure", "--file", file], token: token)
        #expect(saved.code == 0, "\(saved.err)")
        let run = try runCommand("/usr/bin/env", ["python3", Self.repoRoot.appendingPathComponent("Tests/Browser/directory_signin.py").path], env: [
            "CUSTODY_URL": s.url, "DIR_USER": "dir-nested", "DIR_PASSWORD": "Dir-Pass-1!", "DIR_ROLE": "passwordUser",
            "SHOTS": Self.repoRoot.appendingPathComponent("test-artifacts/screenshots").path,
        ], timeout: 180)
        #expect(run.code == 0 && run.out.contains("ok"), "\(run.out)\n\(run.err)")
    }
}

extension LiveServerTests {
    /// Access control in a real browser (`Tests/Browser/access_flow.py`): ask, approve from the
    /// badge and the requests page, check out and read, check in; then the reset on sshd is checked.
    @Test(.needs("chromium, chromedriver and selenium (make deps), and the test sshd", browserReady && TestTargets.ready.available))
    func theAccessWorkflowWorksInARealBrowser() async throws {
        let target = TestTargets.target("browser2", password: "Browser-Access-Old-1")
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let admin = try #require(try adminToken(s))
        for (name, role) in [("web-holder", "passwordUser"), ("web-approver", "administrator")] {
            #expect(try api(s, admin, "POST", "/users", ["username": name, "password": "Initial-Pass-4417!", "role": role])["id"] != nil)
        }
        let rid = try #require(try api(s, admin, "POST", "/resources", ["name": "browser-acl", "dnsName": "127.0.0.1", "type": "Linux"])["id"] as? String)
        _ = try api(s, admin, "POST", "/resources/\(rid)/accounts", ["loginName": TestTargets.sudoUser, "password": TestTargets.sudoPassword])
        let aid = try #require(try api(s, admin, "POST", "/resources/\(rid)/accounts", ["loginName": target, "password": "Browser-Access-Old-1"])["id"] as? String)
        _ = try api(s, admin, "PUT", "/resources/\(rid)/reset-config", ["mode": "agentless", "protocol": "ssh", "port": TestTargets.sshPort,
            "loginAccount": TestTargets.sudoUser, "elevation": "sudo"])
        _ = try api(s, admin, "PUT", "/resources/\(rid)/accounts/\(aid)/shares", ["users": [["username": "web-holder", "permission": "view"]]])
        let rules = try api(s, admin, "PUT", "/resources/\(rid)/accounts/\(aid)/access-control",
            ["approvers": ["users": ["web-approver"]], "resetOnCheckin": true])
        #expect(rules["setHere"] as? Bool == true, "\(rules)")
        let shots = Self.repoRoot.appendingPathComponent("test-artifacts/screenshots").path
        let run = try runCommand("/usr/bin/env", ["python3", Self.repoRoot.appendingPathComponent("Tests/Browser/access_flow.py").path], env: [
            "CUSTODY_URL": s.url, "ACCOUNT_PATH": "/resources/\(rid)/accounts/\(aid)", "HOLDER": "web-holder",
            "HOLDER_PASSWORD": "Initial-Pass-4417!", "APPROVER": "web-approver", "APPROVER_PASSWORD": "Initial-Pass-4417!",
            "NEW_PASSWORD": "Browser-Changed-Pass-9", "TARGET_PASSWORD": "Browser-Access-Old-1", "SHOTS": shots,
        ], timeout: 300)
        #expect(run.code == 0 && run.out.contains("ok"), "\(run.out)\n\(run.err)")
        // The check-in's reset ran on sshd: the holder's password no longer logs in.
        var changed = false
        for _ in 0..<120 where !changed {
            changed = !TestTargets.passwordWorks(target, "Browser-Access-Old-1")
            if !changed { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(changed, "the password the holder saw still logs in")
        _ = try api(s, admin, "DELETE", "/resources/\(rid)/accounts/\(aid)/access-control")
        var works = false
        for _ in 0..<60 where !works {
            let now = try api(s, admin, "GET", "/resources/\(rid)/accounts/\(aid)/password")["password"] as? String
            works = now.map { TestTargets.passwordWorks(target, $0) } == true
            if !works { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(works, "the vault's password logs in")
        for page in ["access-requested", "access-approvals", "access-checked-out", "access-checked-in"] {
            #expect(FileManager.default.fileExists(atPath: "\(shots)/\(page).png"), "screenshot \(page)")
        }
    }
}
