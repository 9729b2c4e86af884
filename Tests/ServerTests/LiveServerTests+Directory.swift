import Foundation
import TestSupport
import Testing

@testable import Server

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
}
