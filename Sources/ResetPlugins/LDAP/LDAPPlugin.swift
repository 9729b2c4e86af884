import CLDAP
import Foundation
import Shared

/// Directory accounts over LDAP: OpenLDAP, Oracle Internet Directory and eDirectory through the
/// Password Modify extended operation (falling back to a `userPassword` replace), verified by a
/// simple bind as the account's DN; Active Directory (`Windows Domain` resources, or `ldapType`
/// ad) through `unicodePwd` over LDAPS or StartTLS, see `LDAPPlugin+AD`.
///
/// Reset config options: `ldapType` (openldap | ad | oid | edirectory), `tls` (ldaps | starttls |
/// none; default ldaps on port 636 and for AD, else starttls), `tlsVerify` (false skips the
/// certificate check), `caFile`. The login account, when set, is the admin that binds to make the
/// change; without it the account changes its own password.
public struct LDAPPlugin: ResetPlugin {
    public enum Directory: String, Sendable, CaseIterable { case openldap, ad, oid, edirectory }

    public let descriptor = PluginDescriptor(id: "ldap", resourceTypes: ["LDAP Server", "Windows Domain"], capabilities: [.reset, .verify, .selfChange],
        constraints: PasswordConstraints(maxLength: 128))

    public init() {}

    public func defaultPort(_ settings: ResetSettings) -> Int? {
        let tls = settings.options["tls"] ?? (settings.options["ldapType"] == Directory.ad.rawValue ? "ldaps" : nil)
        return tls == "ldaps" ? 636 : 389
    }

    /// A `Windows Domain` resource is Active Directory.
    public func defaultOptions(resourceType: String) -> [String: String] { resourceType == "Windows Domain" ? ["ldapType": "ad"] : [:] }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        if try Self.directory(job) == .ad {
            guard try Self.tls(job) != .none else {
                throw ResetFailure(.unsupported, "Active Directory accounts are checked over TLS only; set option tls to ldaps or starttls")
            }
            return try await verifyAD(job)
        }
        let dn = try Self.dn(job)
        let password = try Self.password(job.currentPassword, of: dn)
        try await withConnection(job) { c throws(ResetFailure) in
            do throws(LDAPConnection.Failure) { try await c.bind(dn: dn, password: password) } catch {
                throw Self.map(error, job, during: "bind as \(dn)", bind: true)
            }
        }
    }

    /// A simple bind with an empty password is an anonymous bind that "succeeds": never send one.
    static func password(_ secret: Secret?, of dn: String) throws(ResetFailure) -> Secret {
        guard let secret, !secret.isEmpty else { throw ResetFailure(.unsupported, "no stored password for \(dn) to bind with") }
        return secret
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.protocolError, "no new password") }
        let directory = try Self.directory(job)
        let tls = try Self.tls(job)
        if directory == .ad {
            guard tls != .none else {
                throw ResetFailure(.unsupported, "Active Directory changes passwords over TLS only; set option tls to ldaps or starttls")
            }
            return try await resetAD(job, new: new)
        }
        let dn = try Self.dn(job)
        return try await withConnection(job) { c throws(ResetFailure) in try await change(c, job, dn: dn, new: new, directory: directory) }
    }

    static func directory(_ job: ResetJob) throws(ResetFailure) -> Directory {
        guard let directory = Directory(rawValue: job.settings.options["ldapType"] ?? "openldap") else {
            throw ResetFailure(.unsupported, "unknown ldapType")
        }
        return directory
    }

    func change(_ c: LDAPConnection, _ job: ResetJob, dn: String, new: Secret, directory: Directory) async throws(ResetFailure)
        -> ResetReport
    {
        let admin = job.loginAccount
        let bindDN = admin?.loginName ?? dn
        let bindPassword = try Self.password(admin == nil ? job.currentPassword : admin?.password, of: bindDN)
        do throws(LDAPConnection.Failure) {
            try await c.bind(dn: bindDN, password: bindPassword)
        } catch { throw Self.map(error, job, during: "bind as \(bindDN)", bind: true) }
        let old = admin == nil ? job.currentPassword : nil
        try job.exposure?.willSend()
        job.exposure?.markReached()
        let report = try await modify(c, job, dn: dn, old: old, new: new, directory: directory)
        try job.exposure?.sent()
        return report
    }

    private func modify(_ c: LDAPConnection, _ job: ResetJob, dn: String, old: Secret?, new: Secret, directory: Directory)
        async throws(ResetFailure) -> ResetReport
    {
        do throws(LDAPConnection.Failure) {
            switch directory {
            case .ad:
                try await c.replace(dn: dn, attribute: "unicodePwd", value: Self.quoted(new), old: old.map(Self.quoted))
                return ResetReport(message: "unicodePwd changed")
            case .openldap, .oid, .edirectory:
                do throws(LDAPConnection.Failure) {
                    try await c.passwordModify(dn: dn, old: old, new: new)
                    return ResetReport(message: "password changed (Password Modify extended operation)")
                } catch where error.code == LDAP_PROTOCOL_ERROR || error.code == LDAP_UNAVAILABLE_CRITICAL_EXTENSION {
                    // The server does not offer RFC 3062: replace the attribute instead.
                    try await c.replace(dn: dn, attribute: "userPassword", value: Array(new.reveal().utf8))
                    return ResetReport(message: "userPassword replaced (no Password Modify extended operation)")
                }
            }
        } catch {
            throw Self.map(error, job, during: "change the password of \(dn)")
        }
    }

    /// One connection for `body`, closed (unbound) afterwards whatever happens.
    func withConnection<T: Sendable>(_ job: ResetJob, _ body: (LDAPConnection) async throws(ResetFailure) -> T) async throws(ResetFailure) -> T {
        let c = try await connect(job)
        let result: Result<T, ResetFailure>
        do throws(ResetFailure) { result = .success(try await body(c)) } catch { result = .failure(error) }
        await c.close()
        return try result.get()
    }

    func connect(_ job: ResetJob) async throws(ResetFailure) -> LDAPConnection {
        let tls = try Self.tls(job)
        do throws(LDAPConnection.Failure) {
            return try await LDAPConnection.open(host: job.host, port: job.settings.port, tls: tls, verify: job.settings.tlsVerify,
                caFile: job.settings.options["caFile"], timeout: job.settings.connectTimeout)
        } catch { throw Self.map(error, job, during: "connect") }
    }

    /// The TLS mode; an unknown value is refused, never read as "none".
    static func tls(_ job: ResetJob) throws(ResetFailure) -> LDAPConnection.TLSMode {
        guard let value = job.settings.options["tls"] else {
            return job.settings.port == 636 || (job.settings.options["ldapType"] == Directory.ad.rawValue && job.settings.port != 389) ? .ldaps : .starttls
        }
        guard let mode = LDAPConnection.TLSMode(rawValue: value) else {
            throw ResetFailure(.unsupported, "LDAP option tls must be none, ldaps or starttls")
        }
        return mode
    }

    /// The account's distinguished name: its `DN` field, or its login name when that is a DN.
    static func dn(_ job: ResetJob) throws(ResetFailure) -> String {
        let dn = job.account["DN"] ?? job.loginName
        guard dn.contains("=") else {
            throw ResetFailure(.unsupported, "LDAP accounts are stored by distinguished name: make the login name (or the DN field) a DN")
        }
        return dn
    }

    /// Result codes to the shared taxonomy (a lost connection after the change is for the reset
    /// state machine to judge).
    static func map(_ f: LDAPConnection.Failure, _ job: ResetJob, during step: String, bind: Bool = false)
        -> ResetFailure
    {
        let text = Secret.redact("\(step): \(f.text)", job.secrets)
        if bind && [LDAP_CONSTRAINT_VIOLATION, LDAP_UNWILLING_TO_PERFORM, LDAP_INSUFFICIENT_ACCESS].contains(f.code) {
            return ResetFailure(.permissionDenied, text)  // a locked or disabled account, not a password the server refused
        }
        switch f.code {
        case LDAP_INVALID_CREDENTIALS: return ResetFailure(.authenticationFailed, text)
        case LDAP_CONSTRAINT_VIOLATION, LDAP_UNWILLING_TO_PERFORM: return ResetFailure(.rejectedByTarget, text)
        case LDAP_INSUFFICIENT_ACCESS: return ResetFailure(.permissionDenied, text)
        case _ where f.isConnection: return ResetFailure(.unreachable, text)
        default: return ResetFailure(.protocolError, text)
        }
    }
}
