import Foundation
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

extension LiveServerTests {
    /// Directory sign-in on the real binary: `custody directory configure` (the bind password read
    /// from stdin), `directory test`, then `custody login` as a domain user, unchanged.
    @Test(.needs("a Samba AD DC (root needed)", SambaDC.ready.available))
    func aDomainUserSignsInThroughTheCLI() async throws {
        #expect(DirectorySignInTests.directory)
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let token = try #require(try adminToken(s))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("directory-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        var body = DirectorySignInTests.settings
        body["bindPassword"] = nil
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: file))
        let saved = try cli(s, ["directory", "configure", "--file", file, "--ask-bind-password"], token: token, stdin: "Service-Pass-1!\n")
        #expect(saved.code == 0 && saved.out.contains("saved"), "\(saved.err)")
        let tested = try cli(s, ["directory", "test"], token: token)
        #expect(tested.code == 0 && tested.out.contains("bound"), "\(tested.out) \(tested.err)")
        let signed = try cli(s, ["login", "--username", "dir-admin", "--json"], stdin: "Dir-Pass-1!\n")
        #expect(signed.code == 0, "\(signed.err)")
        let wrong = try cli(s, ["login", "--username", "dir-admin", "--json"], stdin: "Wrong-Pass-9!\n")
        #expect(wrong.code != 0 && wrong.err.contains("invalid_credentials"), "\(wrong.err)")
        #expect(!s.stdout.contains("Service-Pass-1!") && !s.stderr.contains("Dir-Pass-1!"), "no password is logged")
    }

    /// `custody directory import-resources --accounts-base … --domain-resource …` and
    /// `custody directory sync` on the real binary, with the sync set in the configure file.
    @Test(.needs("a Samba AD DC (root needed)", SambaDC.ready.available))
    func domainAccountsImportAndTheSyncThroughTheCLI() async throws {
        #expect(DirectorySignInTests.directory)
        let suffix = UUID().uuidString.prefix(4).lowercased()
        let ou = "OU=CLI \(suffix),\(SambaDC.baseDN)"
        #expect(SambaDC.tool(["ou", "add", ou]).status == 0)
        SambaDC.user("cli-acct-\(suffix)", password: "Cli-Acct-1!", in: ou)
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let token = try #require(try adminToken(s))
        let rid = try #require(try JSONSerialization.jsonObject(with: Data(cli(s, ["resource", "create", "--name", "cli-domain-\(suffix)", "--dns-name",
            SambaDC.host, "--type", "Windows Domain", "--json"], token: token).out.utf8)) as? [String: Any])["id"] as? String
        let rid2 = try #require(rid)
        let usage = try cli(s, ["directory", "import-resources", "--accounts-base", ou], token: token)
        #expect(usage.code != 0 && usage.err.contains("--domain-resource"), "\(usage.err)")
        let file = TestTargets.scratch + "/directory-\(suffix).json"
        var body = DirectorySignInTests.settings
        body["directorySync"] = ["resources": [["accountsBase": ou, "domainResource": rid2]]]
        try JSONSerialization.data(withJSONObject: body).write(to: URL(fileURLWithPath: file))
        #expect(try cli(s, ["directory", "configure", "--file", file], token: token).code == 0)
        let imported = try cli(s, ["directory", "import-resources", "--accounts-base", ou, "--domain-resource", rid2], token: token)
        #expect(imported.code == 0 && imported.out.contains("accounts created: cli-acct-\(suffix)"), "\(imported.out) \(imported.err)")
        #expect(SambaDC.tool(["user", "delete", "cli-acct-\(suffix)"]).status == 0)
        let synced = try cli(s, ["directory", "sync"], token: token)
        #expect(synced.code == 0 && synced.out.contains("accounts missing: cli-acct-\(suffix)"), "\(synced.out) \(synced.err)")
        let help = try cli(s, ["directory", "sync", "--help"], token: nil)
        #expect(help.out.contains("disables the directory users"), "\(help.out)")
    }
}
