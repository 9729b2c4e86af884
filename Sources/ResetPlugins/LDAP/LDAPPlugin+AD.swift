import CLDAP
import Foundation
import Shared

/// Active Directory: accounts named as administrators know them, `unicodePwd` over LDAPS or
/// StartTLS, AD's refusals in words, and a verify that is right while the previous password
/// still binds (`OldPasswordAllowedPeriod`): a bind, then the KDC, which refuses that password.
///
/// Options: `baseDN` (where accounts are searched; default the domain's naming context), `realm`,
/// `kdcPort` (88), `kerberos` (`off` skips the KDC), `oldPasswordMinutes` (60: how long the DC
/// accepts a previous password, used when the KDC cannot answer).
extension LDAPPlugin {
    /// An account's entry: its DN, `sAMAccountName` and `pwdLastSet`.
    struct ADAccount: Sendable {
        let dn: String
        let sam: String?
        let passwordSetAt: Date?
    }

    func verifyAD(_ job: ResetJob) async throws(ResetFailure) {
        let name = ADName(job.account["DN"] ?? job.loginName)
        try await withConnection(job) { c throws(ResetFailure) in
            let domain = try await Self.domain(c, job)
            let bindName = name.bindName(dnsDomain: domain.dnsName)
            let password = try Self.password(job.currentPassword, of: bindName)
            try await Self.bindAD(c, job, as: bindName, password: password)
            let account = try await Self.find(c, job, name, domain)
            try await Self.exactCheck(job, account, domain, password: password, kdcHost: await c.peerAddress())
        }
    }

    func resetAD(_ job: ResetJob, new: Secret) async throws(ResetFailure) -> ResetReport {
        let name = ADName(job.account["DN"] ?? job.loginName)
        return try await withConnection(job) { c throws(ResetFailure) in
            let domain = try await Self.domain(c, job)
            let old: Secret?
            if let admin = job.loginAccount {
                let bindName = ADName(admin.loginName).bindName(dnsDomain: domain.dnsName)
                try await Self.bindAD(c, job, as: bindName, password: try Self.password(admin.password, of: bindName))
                old = nil
            } else {
                let bindName = name.bindName(dnsDomain: domain.dnsName)
                let current = try Self.password(job.currentPassword, of: bindName)
                try await Self.bindAD(c, job, as: bindName, password: current)
                old = current
            }
            let account = try await Self.find(c, job, name, domain)
            try job.exposure?.willSend()
            job.exposure?.markReached()
            do throws(LDAPConnection.Failure) {
                try await c.replace(dn: account.dn, attribute: "unicodePwd", value: Self.quoted(new), old: old.map(Self.quoted))
            } catch { throw Self.mapAD(error, job, during: "change the password of \(account.dn)") }
            try job.exposure?.sent()
            return ResetReport(message: old == nil ? "unicodePwd replaced by \(job.loginAccount?.loginName ?? "")" : "unicodePwd changed by the account itself")
        }
    }

    /// AD's password value: the quoted password in UTF-16LE.
    static func quoted(_ s: Secret) -> [UInt8] { Array("\"\(s.reveal())\"".utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] } }

    /// The domain's naming context from the root DSE (readable before a bind), or the `baseDN` option's.
    static func domain(_ c: LDAPConnection, _ job: ResetJob) async throws(ResetFailure) -> ADDomain {
        let root: [LDAPConnection.Entry]
        do throws(LDAPConnection.Failure) {
            root = try await c.search(base: "", scope: .base, filter: "(objectClass=*)", attributes: ["defaultNamingContext"])
        } catch { throw mapAD(error, job, during: "read the root DSE") }
        guard let nc = root.first?.string("defaultNamingContext"), !nc.isEmpty else {
            throw ResetFailure(.protocolError, "the directory at \(job.host) has no defaultNamingContext: is it an Active Directory domain controller?")
        }
        return ADDomain(namingContext: nc)
    }

    static func bindAD(_ c: LDAPConnection, _ job: ResetJob, as name: String, password: Secret) async throws(ResetFailure) {
        do throws(LDAPConnection.Failure) { try await c.bind(dn: name, password: password) } catch {
            throw mapAD(error, job, during: "bind as \(name)", bind: true)
        }
    }

    /// The account's entry: by its DN, or searched by name under `baseDN`; none or several is an error.
    static func find(_ c: LDAPConnection, _ job: ResetJob, _ name: ADName, _ domain: ADDomain) async throws(ResetFailure) -> ADAccount {
        let base = name.dn ?? job.settings.options["baseDN"] ?? domain.namingContext
        let filter = name.filter(dnsDomain: domain.dnsName) ?? "(objectClass=user)"
        let entries: [LDAPConnection.Entry]
        do throws(LDAPConnection.Failure) {
            entries = try await c.search(base: base, scope: name.dn == nil ? .subtree : .base, filter: filter,
                attributes: ["sAMAccountName", "pwdLastSet"], limit: 2)
        } catch where error.code == LDAP_SIZELIMIT_EXCEEDED {
            throw ResetFailure(.unsupported, "more than one domain account matches \(job.loginName) under \(base): name it by its DN")
        } catch where error.code == LDAP_NO_SUCH_OBJECT {
            throw ResetFailure(.unsupported, "no domain account \(job.loginName) (\(base) does not exist)")
        } catch { throw mapAD(error, job, during: "search for \(job.loginName) under \(base)") }
        guard let e = entries.first else { throw ResetFailure(.unsupported, "no domain account named \(job.loginName) under \(base)") }
        guard entries.count == 1 else {
            throw ResetFailure(.unsupported, "more than one domain account matches \(job.loginName) under \(base): name it by its DN")
        }
        return ADAccount(dn: e.dn, sam: e.string("sAMAccountName"), passwordSetAt: FileTime.date(e.string("pwdLastSet")))
    }

    /// After a bind: the KDC says whether it is the current password. Where it cannot answer, a
    /// password set longer ago than the DC's old-password period binds only if it is current;
    /// a newer one cannot be told apart from the one before it.
    static func exactCheck(_ job: ResetJob, _ a: ADAccount, _ domain: ADDomain, password: Secret, kdcHost: String?) async throws(ResetFailure) {
        let o = job.settings.options
        var why = o["kerberos"] == "off" ? "option kerberos is off" : "the account has no sAMAccountName"
        let period = Double(o["oldPasswordMinutes"].flatMap(Int.init) ?? 60) * 60
        let age = a.passwordSetAt.map { Date().timeIntervalSince($0) }
        if o["kerberos"] != "off", let sam = a.sam {
            // The KDC of the DC that answered the bind: another DC may not have the change yet.
            let kdc = KerberosCheck(kdcHost: kdcHost ?? job.host, kdcPort: o["kdcPort"].flatMap(Int.init) ?? 88, realm: o["realm"] ?? domain.realm,
                timeout: max(job.settings.connectTimeout, 5) * 2)
            switch await kdc.check(account: sam, password: password) {
            case .works: return
            case .refused(let said) where (age ?? 0) >= period:
                // Past the old-password period the bind is exact: the KDC saying otherwise is a disagreement, not an answer.
                throw ResetFailure(.outcomeUnknown, Secret.redact("the password binds, and was set before the old-password period, "
                    + "but the KDC refuses it (\(said)): the DC and the KDC disagree (replication?)", job.secrets))
            case .refused(let said):
                throw ResetFailure(.authenticationFailed, Secret.redact("the password binds over LDAP but the domain's KDC refuses it (\(said)): "
                    + "it is a previous password, still accepted for the domain's old password period", job.secrets))
            case .revoked(let said): throw ResetFailure(.permissionDenied, Secret.redact("the KDC refuses \(sam): \(said)", job.secrets))
            case .cannotTell(let said): why = Secret.redact(said, job.secrets)
            }
        }
        guard let age else { return }
        if age < period {
            throw ResetFailure(.outcomeUnknown, "the password binds, but it was set \(Int(age / 60)) minute(s) ago and the domain still accepts "
                + "the previous password for \(Int(period / 60)) minutes, so the bind does not say which one this is; the KDC could not tell (\(why))")
        }
    }

    /// AD's results: refusals in words, bind `data` codes, then the general LDAP mapping.
    static func mapAD(_ f: LDAPConnection.Failure, _ job: ResetJob, during step: String, bind: Bool = false) -> ResetFailure {
        let text = Secret.redact("\(step): \(f.text)", job.secrets)
        if bind, let failure = ADRefusal.bindFailure(f, text: text) { return failure }
        if !bind, f.code == LDAP_CONSTRAINT_VIOLATION || f.code == LDAP_UNWILLING_TO_PERFORM, let (code, reason) = ADRefusal.passwordRefusal(f.diagnostic) {
            return ResetFailure(code, "\(reason) (\(text))")
        }
        return map(f, job, during: step, bind: bind)
    }
}
