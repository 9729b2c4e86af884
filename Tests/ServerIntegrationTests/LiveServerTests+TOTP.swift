import Foundation
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

extension LiveServerTests {
    /// Two-factor sign-in on the real binary: turned on over HTTPS, `custody login --otp`, refused
    /// through `custody user reset-totp` on oneself, and off with `custody totp disable` (the password).
    @Test func twoFactorSignInThroughTheCLI() async throws {
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let token = try #require(try adminToken(s))
        func curl(_ path: String, _ body: String) throws -> [String: Any] {
            let r = try runCommand("/usr/bin/curl", ["-s", "--cacert", s.caFile, "-H", "Authorization: Bearer \(token)",
                "-H", "Content-Type: application/json", "-d", body, s.url + "/api/v1" + path])
            return (try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]) ?? [:]
        }
        let key = try #require(try curl("/auth/totp", "{}")["secret"] as? String)
        let secret = Fixtures.base32(key)
        #expect(try curl("/auth/totp", #"{"otp": "\#(TOTP.code(secret, step: TOTP.step(Date())))"}"#)["enabled"] as? Bool == true)
        let refused = try cli(s, ["login", "--username", "admin", "--json"], stdin: "Cli-Keeper-Pass-1\n")
        #expect(refused.code != 0 && refused.err.contains("otp_required"), "\(refused.err)")
        // The next step's code (the current one was used to turn it on); one step of drift is allowed.
        let next = TOTP.code(secret, step: TOTP.step(Date()) + 1)
        let signed = try cli(s, ["login", "--username", "admin", "--otp", next, "--json"], stdin: "Cli-Keeper-Pass-1\n")
        #expect(signed.code == 0, "\(signed.err)")
        #expect(try json(signed)["token"] is String)
        let users = try #require(try JSONSerialization.jsonObject(with: Data(try cli(s, ["user", "list", "--json"], token: token).out.utf8)) as? [[String: Any]])
        let id = try #require(users.first { $0["username"] as? String == "admin" }?["id"] as? String)
        // Not one's own without the password (a stolen session must not drop it): `custody totp disable` asks for it.
        let own = try cli(s, ["user", "reset-totp", id], token: token)
        #expect(own.code != 0 && own.err.contains("with your password"), "\(own.err)")
        let off = try cli(s, ["totp", "disable"], token: token, stdin: "Cli-Keeper-Pass-1\n")
        #expect(off.code == 0 && off.out.contains("two-factor sign-in is off"), "\(off.err)")
        #expect(try cli(s, ["login", "--username", "admin", "--json"], stdin: "Cli-Keeper-Pass-1\n").code == 0)
        #expect(!s.stdout.contains(key) && !s.stderr.contains(key), "the key is not logged")
    }
}
