import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The LDAP plugin against a real slapd (ppolicy, StartTLS, LDAPS). After every case `ldapwhoami`
/// says which password binds.
@Suite(.needs("slapd (root needed)", LDAPServer.available), .serialized) struct LDAPPluginTests {
    typealias S = LDAPServer
    let plugin = LDAPPlugin()

    func job(_ dn: String, current: String?, new: String? = nil, admin: (String, String)? = (S.adminDN, S.adminPassword),
        tls: String? = "none", port: Int = S.port, ldapType: String = "openldap") -> ResetJob
    {
        ResetJob(operation: new == nil ? .verify : .reset, resource: ["RESOURCENAME": "directory", "IPADDRESS": "127.0.0.1"],
            account: ["LOGINNAME": dn], currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init),
            loginAccount: admin.map { ResetJob.Credential(loginName: $0.0, password: Secret($0.1)) },
            settings: ResetSettings(port: port, options: ["tls": tls, "caFile": S.caFile, "ldapType": ldapType].compactMapValues { $0 },
                connectTimeout: 5))
    }

    @Test(arguments: [("none", S.port), ("starttls", S.port), ("ldaps", S.tlsPort), (nil, S.port)])
    func changeThenVerifyOverEachTransport(tls: String?, port: Int) async throws {
        let dn = S.user("u-\(tls ?? "default")", password: "Start-Pass-123")
        _ = try await plugin.reset(job(dn, current: "Start-Pass-123", new: "Next-Pass-456", tls: tls, port: port))
        try await plugin.verify(job(dn, current: "Next-Pass-456", tls: tls, port: port))
        #expect(S.passwordWorks(dn, "Next-Pass-456") && !S.passwordWorks(dn, "Start-Pass-123"))
    }

    @Test func theAccountChangesItsOwnPasswordWithoutAnAdmin() async throws {
        let dn = S.user("self", password: "Start-Pass-123")
        _ = try await plugin.reset(job(dn, current: "Start-Pass-123", new: "Self-Pass-456", admin: nil))
        #expect(S.passwordWorks(dn, "Self-Pass-456"))
    }

    @Test func aWrongAdminPasswordIsAnAuthenticationFailureAndChangesNothing() async throws {
        let dn = S.user("badadmin", password: "Start-Pass-123")
        await #expect(throws: ResetFailure.self) {
            _ = try await plugin.reset(job(dn, current: "Start-Pass-123", new: "Next-Pass-456", admin: (S.adminDN, "wrong-admin-pw")))
        }
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job(dn, current: "x", new: "Next-Pass-456", admin: (S.adminDN, "wrong-admin-pw")))
        }
        #expect(e?.code == .authenticationFailed && e?.message.contains("Invalid credentials") == true, "\(String(describing: e))")
        #expect(e?.message.contains("wrong-admin-pw") == false)
        #expect(S.passwordWorks(dn, "Start-Pass-123"))
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job(dn, current: "Not-The-Pass-1")) }?.code == .authenticationFailed)
    }

    @Test func aServerDownIsUnreachable() async throws {
        do {
            try await plugin.verify(job("uid=x,\(S.suffix)", current: "whatever", port: 1))
            Issue.record("verify against a closed port succeeded")
        } catch { #expect(error.code == .unreachable, "\(error)") }
    }

    @Test func thePasswordPolicyRejectionCarriesTheServersDiagnostic() async throws {
        let dn = S.user("policy", password: "Start-Pass-123")
        do {
            _ = try await plugin.reset(job(dn, current: "Start-Pass-123", new: "Short-1"))
            Issue.record("a password shorter than pwdMinLength was accepted")
        } catch {
            #expect(error.code == .rejectedByTarget && error.message.contains("quality"), "\(error)")
        }
        #expect(S.passwordWorks(dn, "Start-Pass-123"))
    }

    @Test func activeDirectoryIsRefusedWithoutTLS() async throws {
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("cn=x,\(S.suffix)", current: "a", new: "Next-Pass-456", ldapType: "ad"))
        }
        #expect(e?.code == .unsupported && e?.message.contains("over TLS only") == true)
    }

    @Test func anEmptyPasswordIsNeverSentAsAnAnonymousBind() async throws {
        let dn = S.user("empty", password: "Start-Pass-123")
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job(dn, current: "")) }?.code == .unsupported)
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job(dn, current: nil)) }?.code == .unsupported)
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job(dn, current: "Start-Pass-123", tls: "verify")) }?.code
            == .unsupported)
    }

    @Test func anAccountThatIsNotADNIsRefused() async throws {
        #expect(await failure { () throws(ResetFailure) in try await plugin.verify(job("alice", current: "x")) }?.code == .unsupported)
    }

    /// TLS is the default (StartTLS on 389) and verifies the certificate; only `tlsVerify: false` skips the check.
    @Test(arguments: [("ldaps", S.tlsPort), ("starttls", S.port), (nil, S.port)])
    func aWrongCAIsRefused(tls: String?, port: Int) async throws {
        var j = job(S.user("ca", password: "Start-Pass-123"), current: "Start-Pass-123", tls: tls, port: port)
        j.settings.options["caFile"] = "/etc/ssl/certs/ca-certificates.crt"
        do {
            try await plugin.verify(j)
            Issue.record("a certificate from an untrusted CA was accepted")
        } catch { #expect(error.code == .unreachable, "\(error)") }
        j.settings.options["tlsVerify"] = "false"
        try await plugin.verify(j)
    }

    @Test func hostilePasswords() async throws {
        let dn = S.user("hostile", password: "Start-Pass-123")
        var current = "Start-Pass-123"
        for pw in [#"quote'double"back\slash"#, "percent%under_score;semi", "Pässwörd-ü-密码-пароль", #"\\*()\00-ldap-filter"#, " space at ends "] {
            _ = try await plugin.reset(job(dn, current: current, new: pw))
            #expect(S.passwordWorks(dn, pw), "\(pw.count) characters")
            current = pw
        }
    }
}
