import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The MySQL/MariaDB plugin against a real MariaDB. After every case the `mariadb` client says
/// which password logs in.
@Suite(.needs("MariaDB (root needed)", MariaDBServer.available), .serialized) struct MySQLPluginTests {
    typealias S = MariaDBServer
    let plugin = MySQLPlugin()

    func job(_ user: String, current: String?, new: String? = nil, admin: (String, String)? = (S.admin, S.adminPassword),
        tls: String? = "none", port: Int = S.port) -> ResetJob
    {
        ResetJob(operation: new == nil ? .verify : .reset, resource: ["RESOURCENAME": "db", "IPADDRESS": "127.0.0.1"],
            account: ["LOGINNAME": user], currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init),
            loginAccount: admin.map { ResetJob.Credential(loginName: $0.0, password: Secret($0.1)) },
            settings: ResetSettings(port: port, options: ["tls": tls, "caFile": S.caFile].compactMapValues { $0 }, connectTimeout: 5))
    }

    @Test(arguments: ["none", "verify", "required", nil])
    func changeThenVerify(tls: String?) async throws {
        let name = "m_\(tls ?? "default")"
        S.user(name, password: "Start-Pass-123")
        _ = try await plugin.reset(job(name, current: "Start-Pass-123", new: "Next-Pass-456", tls: tls))
        try await plugin.verify(job(name, current: "Next-Pass-456", tls: tls))
        #expect(S.passwordWorks(name, "Next-Pass-456") && !S.passwordWorks(name, "Start-Pass-123"))
    }

    @Test func theAccountChangesItsOwnPassword() async throws {
        S.user("m_self", password: "Start-Pass-123")
        _ = try await plugin.reset(job("m_self", current: "Start-Pass-123", new: "Self-Pass-456", admin: nil))
        #expect(S.passwordWorks("m_self", "Self-Pass-456"))
    }

    @Test func aWrongAdminPasswordIsAnAuthenticationFailure() async throws {
        S.user("m_badadmin", password: "Start-Pass-123")
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("m_badadmin", current: "x", new: "Next-Pass-456", admin: (S.admin, "Wrong-Admin-1")))
        }
        #expect(e?.code == .authenticationFailed && e?.message.contains("Wrong-Admin-1") == false, "\(String(describing: e))")
        #expect(S.passwordWorks("m_badadmin", "Start-Pass-123"))
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("m_badadmin", current: "Not-It-1!")) }?.code
            == .authenticationFailed)
    }

    @Test func aServerDownIsUnreachable() async throws {
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("x", current: "y", port: 1)) }?.code == .unreachable)
    }

    @Test func thePasswordPolicyRejectionIsExplained() async throws {
        S.user("m_policy", password: "Start-Pass-123")
        let e = await failure { () throws(ResetFailure) in _ = try await plugin.reset(job("m_policy", current: "Start-Pass-123", new: "short")) }
        #expect(e?.code == .rejectedByTarget && e?.message.contains("policy") == true, "\(String(describing: e))")
        #expect(S.passwordWorks("m_policy", "Start-Pass-123"))
    }

    /// TLS is the default and verifies the certificate, `required` included; only `tlsVerify: false` skips the check.
    @Test(arguments: ["verify", "required", nil])
    func aWrongCAIsRefused(tls: String?) async throws {
        S.user("m_ca", password: "Start-Pass-123")
        var j = job("m_ca", current: "Start-Pass-123", tls: tls)
        j.settings.options["caFile"] = "/etc/ssl/certs/ca-certificates.crt"
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(j) }?.code == .unreachable)
        j.settings.options["tlsVerify"] = "false"
        try await plugin.verify(j)
    }

    @Test func hostilePasswords() async throws {
        S.user("m_hostile", password: "Start-Pass-123")
        var current = "Start-Pass-123"
        for pw in [#"Quote'Dbl"Back\slash1"#, "Per%cent_Under;Semi1", "Pässwörd-Ü1-密码", #"Tail-Backslash-1\"#, "'; DROP USER x; --A1"] {
            _ = try await plugin.reset(job("m_hostile", current: current, new: pw))
            #expect(S.passwordWorks("m_hostile", pw), "\(pw.count) characters")
            current = pw
        }
        // A host part with quote characters is escaped too: no such account, a clean refusal.
        var j = job("m_hostile", current: current, new: "Next-Pass-456")
        j.settings.options["hostPart"] = "%' OR '1'='1"
        #expect(await failure { () throws(ResetFailure) in _ = try await plugin.reset(j) }?.code == .unsupported)
        #expect(S.passwordWorks("m_hostile", current))
    }

    @Test func escapingFollowsTheServersNoBackslashEscapesMode() async throws {
        S.user("m_nobs", password: "Start-Pass-123")
        #expect(S.root("SET GLOBAL sql_mode = 'NO_BACKSLASH_ESCAPES';"))
        defer { S.root("SET GLOBAL sql_mode = DEFAULT;") }
        let pw = #"Back\slash'Quote-1"#
        _ = try await plugin.reset(job("m_nobs", current: "Start-Pass-123", new: pw))
        #expect(S.passwordWorks("m_nobs", pw))
    }

    @Test func localhostGoesOverTCPAndUnknownTLSModesAreRefused() async throws {
        S.user("m_local", password: "Start-Pass-123")
        var j = job("m_local", current: "Start-Pass-123")
        j.resource["IPADDRESS"] = "localhost"
        try await plugin.verify(j)
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("m_local", current: "Start-Pass-123", tls: "starttls")) }?
            .code == .unsupported)
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("m_local", current: "")) }?.code == .unsupported)
    }
}
