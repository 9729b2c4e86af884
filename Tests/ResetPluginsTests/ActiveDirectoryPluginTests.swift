import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The LDAP plugin against a real Active Directory DC (Samba): accounts by name, `unicodePwd` over
/// LDAPS and StartTLS, AD's refusals in words, and a verify that is right while the previous
/// password still binds. Every change is checked with the KDC, which takes only the current one.
@Suite(.needs("a Samba AD DC (root needed)", SambaDC.ready.available), .serialized) struct ActiveDirectoryPluginTests {
    typealias DC = SambaDC
    let plugin = LDAPPlugin()
    static var admin: String { SambaDC.resetAdmin.name }
    static var adminPassword: String { SambaDC.resetAdmin.password }

    func job(_ name: String, current: String?, new: String? = nil, admin: String? = Self.admin, options: [String: String] = [:],
        port: Int? = nil) -> ResetJob
    {
        var settings = ResetSettings(port: port ?? 636, options: ["caFile": DC.caFile].merging(options) { $1 }, connectTimeout: 5)
        settings.options.merge(plugin.defaultOptions(resourceType: "Windows Domain")) { a, _ in a }
        if port == nil, let p = plugin.defaultPort(settings) { settings.port = p }
        return ResetJob(operation: new == nil ? .verify : .reset, resource: ["RESOURCENAME": "dc1", "IPADDRESS": DC.host],
            account: ["LOGINNAME": name], currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init),
            loginAccount: admin.map { ResetJob.Credential(loginName: $0, password: Secret($0.contains(Self.admin) ? Self.adminPassword : "Wrong-Admin-9!")) },
            settings: settings)
    }

    func failure(_ body: () async throws(ResetFailure) -> Void) async -> ResetFailure? {
        do throws(ResetFailure) {
            try await body()
            return nil
        } catch { return error }
    }

    @Test(arguments: [["tls": "ldaps"], ["tls": "starttls"], [:]])
    func anAdministratorResetsByAccountNameOverEachTransport(options: [String: String]) async throws {
        let sam = "ad-reset-\(options["tls"] ?? "default")"
        DC.user(sam, password: "Start-Pass-1!")
        _ = try await plugin.reset(job(sam, current: "Start-Pass-1!", new: "Next-Pass-2!", options: options))
        try await plugin.verify(job(sam, current: "Next-Pass-2!", options: options))
        #expect(DC.passwordIs(sam, "Next-Pass-2!") && !DC.passwordIs(sam, "Start-Pass-1!"))
    }

    @Test func accountsAreNamedAsAdministratorsKnowThem() async throws {
        let dn = DC.user("ad-names", password: "Start-Pass-1!")
        DC.user("ad-noupn", password: "Start-Pass-1!", upn: false)
        for name in ["ad-names", "ad-names@\(DC.dnsDomain)", "\(DC.netbios)\\ad-names", dn, "ad-noupn", "ad-noupn@\(DC.dnsDomain)"] {
            try await plugin.verify(job(name, current: "Start-Pass-1!"))
        }
        _ = try await plugin.reset(job(dn, current: nil, new: "Next-Pass-2!", admin: "\(DC.netbios)\\\(Self.admin)"))
        #expect(DC.passwordIs("ad-names", "Next-Pass-2!"))
        _ = try await plugin.reset(job("ad-noupn@\(DC.dnsDomain)", current: nil, new: "Next-Pass-3!", admin: "\(Self.admin)@\(DC.dnsDomain)"))
        #expect(DC.passwordIs("ad-noupn", "Next-Pass-3!"))
        let e = await failure { () throws(ResetFailure) in try await plugin.verify(job("ad-nobody", current: "Start-Pass-1!")) }
        #expect(e?.code == .authenticationFailed, "\(String(describing: e))")
        let missing = await failure { () throws(ResetFailure) in _ = try await plugin.reset(job("ad-nobody", current: nil, new: "Next-Pass-2!")) }
        #expect(missing?.code == .unsupported && missing?.message.contains("no domain account") == true, "\(String(describing: missing))")
    }

    @Test func anAccountChangesItsOwnPassword() async throws {
        DC.user("ad-self", password: "Start-Pass-1!")
        _ = try await plugin.reset(job("ad-self", current: "Start-Pass-1!", new: "Self-Pass-2!", admin: nil))
        #expect(DC.passwordIs("ad-self", "Self-Pass-2!") && !DC.passwordIs("ad-self", "Start-Pass-1!"))
    }

    /// Each of AD's refusals is definite, says why in words, and leaves the password as it was.
    @Test func refusalsAreDefiniteAndInWords() async throws {
        let dn = DC.user("ad-refuse", password: "Start-Pass-1!")
        let cases: [(String, String?, String, String)] = [
            ("Start-Pass-1!", Self.admin, "Ab1!", "shorter than the domain's minimum length"),
            ("Start-Pass-1!", Self.admin, "alllowercaseletters", "complexity"),
        ]
        for (current, admin, new, words) in cases {
            let e = await failure { () throws(ResetFailure) in _ = try await plugin.reset(job("ad-refuse", current: current, new: new, admin: admin)) }
            #expect(e?.code == .rejectedByTarget && e?.message.contains(words) == true && e?.isDefinite == true, "\(String(describing: e))")
            #expect(e?.message.contains(new) == false)
            #expect(DC.passwordIs("ad-refuse", "Start-Pass-1!"))
        }
        // History: the account's own change back to a password it had.
        _ = try await plugin.reset(job("ad-refuse", current: "Start-Pass-1!", new: "Second-Pass-2!", admin: nil))
        let history = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("ad-refuse", current: "Second-Pass-2!", new: "Start-Pass-1!", admin: nil))
        }
        #expect(history?.code == .rejectedByTarget && history?.message.contains("used before") == true, "\(String(describing: history))")
        #expect(DC.passwordIs("ad-refuse", "Second-Pass-2!"))
        // The old password: it still binds (the previous one, for an hour), but the change names it as the old value.
        DC.setPassword(dn, "Third-Pass-3!")
        let old = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("ad-refuse", current: "Second-Pass-2!", new: "Fourth-Pass-4!", admin: nil))
        }
        #expect(old?.code == .authenticationFailed && old?.message.contains("old password does not match") == true, "\(String(describing: old))")
        #expect(DC.passwordIs("ad-refuse", "Third-Pass-3!"))
    }

    /// No other password would pass now: not retried with a new one.
    @Test func tooYoungToChangeIsARefusal() async throws {
        let dn = DC.user("ad-young", password: "Start-Pass-1!")
        DC.tool(["domain", "passwordsettings", "pso", "create", "custody-young", "1", "--min-pwd-age=1", "--complexity=on", "--history-length=24",
            "--min-pwd-length=7", "--account-lockout-threshold=0", "--max-pwd-age=0"])
        DC.tool(["domain", "passwordsettings", "pso", "apply", "custody-young", "ad-young"])
        DC.setPassword(dn, "Start-Pass-2!")  // pwdLastSet: now
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("ad-young", current: "Start-Pass-2!", new: "Young-Pass-3!", admin: nil))
        }
        #expect(e?.code == .permissionDenied && e?.message.contains("too recently") == true && e?.isDefinite == true, "\(String(describing: e))")
        #expect(DC.passwordIs("ad-young", "Start-Pass-2!"))
    }

    @Test func aWrongAdministratorPasswordIsAnAuthenticationFailureAndChangesNothing() async throws {
        DC.user("ad-badadmin", password: "Start-Pass-1!")
        let e = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("ad-badadmin", current: nil, new: "Next-Pass-2!", admin: "administrator-of-nothing"))
        }
        #expect(e?.code == .authenticationFailed && e?.message.contains("wrong password") == true, "\(String(describing: e))")
        #expect(e?.message.contains("Wrong-Admin-9!") == false)
        #expect(DC.passwordIs("ad-badadmin", "Start-Pass-1!"))
    }

    /// The previous password binds over LDAP for an hour after a change; the verify must still say it is wrong.
    @Test func theVerifyIsNotFooledByThePreviousPassword() async throws {
        let dn = DC.user("ad-grace", password: "Start-Pass-1!")
        DC.setPassword(dn, "Behind-Back-2!")
        #expect(DC.ldapBinds("ad-grace@\(DC.dnsDomain)", "Start-Pass-1!"), "the DC no longer keeps the previous password: this test proves nothing")
        let e = await failure { () throws(ResetFailure) in try await plugin.verify(job("ad-grace", current: "Start-Pass-1!")) }
        #expect(e?.code == .authenticationFailed && e?.message.contains("previous password") == true, "\(String(describing: e))")
        try await plugin.verify(job("ad-grace", current: "Behind-Back-2!"))
        // Without the KDC, a password set within the old-password period cannot be judged by a bind…
        let off = await failure { () throws(ResetFailure) in try await plugin.verify(job("ad-grace", current: "Start-Pass-1!", options: ["kerberos": "off"])) }
        #expect(off?.code == .outcomeUnknown, "\(String(describing: off))")
        let unreachableKDC = await failure { () throws(ResetFailure) in
            try await plugin.verify(job("ad-grace", current: "Behind-Back-2!", options: ["kdcPort": "1"]))
        }
        #expect(unreachableKDC?.code == .outcomeUnknown, "\(String(describing: unreachableKDC))")
        // …and past it, a bind is proof.
        try await plugin.verify(job("ad-grace", current: "Behind-Back-2!", options: ["kerberos": "off", "oldPasswordMinutes": "0"]))
    }

    @Test func aDisabledAccountIsNotOutOfSync() async throws {
        let dn = DC.user("ad-disabled", password: "Start-Pass-1!")
        DC.modify(dn, "userAccountControl", "514")
        let e = await failure { () throws(ResetFailure) in try await plugin.verify(job("ad-disabled", current: "Start-Pass-1!")) }
        #expect(e?.code == .permissionDenied && e?.message.contains("disabled") == true, "\(String(describing: e))")
    }

    @Test func plainLDAPAndAnUntrustedCertificateAreRefused() async throws {
        DC.user("ad-tls", password: "Start-Pass-1!")
        let plain = await failure { () throws(ResetFailure) in
            _ = try await plugin.reset(job("ad-tls", current: nil, new: "Next-Pass-2!", options: ["tls": "none"], port: 389))
        }
        #expect(plain?.code == .unsupported, "\(String(describing: plain))")
        let ca = await failure { () throws(ResetFailure) in
            try await plugin.verify(job("ad-tls", current: "Start-Pass-1!", options: ["caFile": "/etc/ssl/certs/ca-certificates.crt"]))
        }
        #expect(ca?.code == .unreachable, "\(String(describing: ca))")
        #expect(DC.passwordIs("ad-tls", "Start-Pass-1!"))
    }

    @Test func hostilePasswords() async throws {
        DC.user("ad-hostile", password: "Start-Pass-1!")
        for pw in [#"quote"double'single\back1A"#, "Pässwörd-ü-密码-пароль-1A", #"\*()\00-ldap-Filter1"#, " Space at ends 1 "] {
            _ = try await plugin.reset(job("ad-hostile", current: nil, new: pw))
            #expect(DC.passwordIs("ad-hostile", pw), "\(pw.count) characters")
            try await plugin.verify(job("ad-hostile", current: pw))
        }
    }
}

extension ActiveDirectoryPluginTests {
    /// AD stops a plain search at its MaxPageSize (1000 by default); the imports read in pages.
    @Test func aPagedSearchReadsEveryPage() async throws {
        DC.tool(["ou", "add", "OU=Paged,\(DC.baseDN)"])
        for i in 0..<7 { DC.user("paged-\(i)", password: "Start-Pass-1!", in: "OU=Paged,\(DC.baseDN)") }
        let c = try await LDAPConnection.open(host: DC.host, port: 636, tls: .ldaps, caFile: DC.caFile, timeout: 5)
        try await c.bind(dn: "\(Self.admin)@\(DC.dnsDomain)", password: Secret(Self.adminPassword))
        let all = try await c.pagedSearch(base: "OU=Paged,\(DC.baseDN)", filter: "(objectClass=user)", attributes: ["sAMAccountName"], limit: 100,
            pageSize: 2)
        #expect(Set(all.compactMap { $0.string("sAMAccountName") }) == Set((0..<7).map { "paged-\($0)" }))
        await #expect(throws: LDAPConnection.Failure.self) {
            _ = try await c.pagedSearch(base: "OU=Paged,\(DC.baseDN)", filter: "(objectClass=user)", attributes: ["cn"], limit: 5, pageSize: 2)
        }
        await c.close()
    }
}
