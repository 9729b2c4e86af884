import CLDAP
import Foundation
import Shared

/// Signs a user in against Active Directory: a service account finds the user by name under a
/// base, a disabled or locked account is refused, the user's password is checked by a bind (and by
/// the domain's KDC where it answers, which refuses the previous password that a bind still takes
/// for an hour), and the configured groups the user is in, nested ones included, are named.
public struct DirectoryLogin: Sendable {
    public struct Config: Sendable {
        public var url: String
        public var caFile: String?
        public var bindDN: String
        public var bindPassword: Secret
        public var baseDN: String
        public var userAttribute: String
        /// Ask the KDC too (port 88 of the DC that answered), which refuses a previous password.
        public var kerberos = true
        public var timeout: Double

        public init(url: String, caFile: String?, bindDN: String, bindPassword: Secret, baseDN: String, userAttribute: String = "sAMAccountName",
            timeout: Double = 10)
        {
            (self.url, self.caFile, self.bindDN, self.bindPassword, self.baseDN, self.userAttribute, self.timeout) =
                (url, caFile, bindDN, bindPassword, baseDN, userAttribute, timeout)
        }
    }

    public struct Identity: Sendable, Equatable {
        /// The name as the directory spells it (the user attribute's value), whatever case or form was typed.
        public let name: String
        public let dn: String
        public let email: String?
        /// The groups asked about that the user is in (directly or through other groups).
        public let groups: [String]
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Kind: String, Sendable { case invalidCredentials, disabled, unavailable, misconfigured }
        public let kind: Kind
        /// Never the name typed before the directory found it (it may be a password typed in the wrong field).
        public let message: String
        /// The directory's name for the user, once found.
        public var account: String? = nil
        public var description: String { "\(kind.rawValue): \(message)" }
        public init(kind: Kind, message: String, account: String? = nil) { (self.kind, self.message, self.account) = (kind, message, account) }
    }

    let config: Config

    public init(_ config: Config) { self.config = config }

    /// The URL's parts: `ldaps://host[:port]` (636) or `ldap://host[:port]` with StartTLS (389).
    public static func endpoint(_ url: String) -> (host: String, port: Int, ldaps: Bool)? {
        guard let u = URLComponents(string: url), let scheme = u.scheme?.lowercased(), ["ldap", "ldaps"].contains(scheme),
            let host = u.host, !host.isEmpty, u.path.isEmpty || u.path == "/", u.query == nil, u.user == nil, u.password == nil, u.fragment == nil
        else { return nil }
        return (host, u.port ?? (scheme == "ldaps" ? 636 : 389), scheme == "ldaps")
    }

    func connect() async throws(Failure) -> LDAPConnection {
        guard let e = Self.endpoint(config.url) else { throw Failure(kind: .misconfigured, message: "url must be ldaps://host[:port] or ldap://host[:port]") }
        do throws(LDAPConnection.Failure) {
            let c = try await LDAPConnection.open(host: e.host, port: e.port, tls: e.ldaps ? .ldaps : .starttls, caFile: config.caFile, timeout: config.timeout)
            do throws(LDAPConnection.Failure) { try await c.bind(dn: config.bindDN, password: config.bindPassword) } catch {
                await c.close()
                throw error
            }
            return c
        } catch {
            let text = Secret.redact(error.text, [config.bindPassword])
            throw Failure(kind: error.isConnection ? .unavailable : .misconfigured, message: "the service account cannot bind to \(config.url): \(text)")
        }
    }

    /// Binds as the service account and reads the base: what `directory test` shows.
    public func test() async throws(Failure) -> String {
        let c = try await connect()
        defer { Task { await c.close() } }
        do throws(LDAPConnection.Failure) {
            let base = try await c.search(base: config.baseDN, scope: .base, filter: "(objectClass=*)", attributes: ["distinguishedName"])
            return "bound as \(config.bindDN); base \(base.first?.dn ?? config.baseDN) found"
        } catch { throw Failure(kind: .misconfigured, message: "the base \(config.baseDN) cannot be read: \(error.text)") }
    }

    public func authenticate(username: String, password: Secret, groups: [String]) async throws(Failure) -> Identity {
        guard !password.isEmpty else { throw Failure(kind: .invalidCredentials, message: "empty password") }
        let c = try await connect()
        do throws(Failure) {
            let identity = try await authenticate(c, username: username, password: password, groups: groups)
            await c.close()
            return identity
        } catch {
            await c.close()
            // A hostile server may echo what it was sent.
            throw Failure(kind: error.kind, message: Secret.redact(error.message, [password, config.bindPassword]), account: error.account)
        }
    }

    private func authenticate(_ c: LDAPConnection, username: String, password: Secret, groups: [String]) async throws(Failure) -> Identity {
        // People only: a computer account is objectClass user too.
        let filter = "(&(objectCategory=person)(objectClass=user)(\(config.userAttribute)=\(LDAPConnection.escapeFilter(username))))"
        let found: [LDAPConnection.Entry]
        do throws(LDAPConnection.Failure) {
            found = try await c.search(base: config.baseDN, scope: .subtree, filter: filter,
                attributes: Array(Set(["sAMAccountName", "userPrincipalName", "mail", config.userAttribute])), limit: 2)
        } catch where error.code == LDAP_SIZELIMIT_EXCEEDED {
            throw Failure(kind: .invalidCredentials, message: "more than one directory entry has that \(config.userAttribute)")
        } catch { throw Failure(kind: .unavailable, message: "search for the user: \(error.text)") }
        guard found.count == 1, let user = found.first, let canonical = name(of: user) else {
            throw Failure(kind: .invalidCredentials, message: "no such directory user")
        }
        // Constructed attributes are returned by a base search only.
        let state = try? await c.search(base: user.dn, scope: .base, filter: "(objectClass=*)",
            attributes: ["userAccountControl", "msDS-User-Account-Control-Computed"])
        let uac = Int(state?.first?.string("userAccountControl") ?? "") ?? 0
        let computed = Int(state?.first?.string("msDS-User-Account-Control-Computed") ?? "") ?? 0
        if uac & 0x2 != 0 { throw Failure(kind: .disabled, message: "the directory account is disabled", account: canonical) }
        if computed & 0x10 != 0 { throw Failure(kind: .disabled, message: "the directory account is locked out", account: canonical) }
        do throws(LDAPConnection.Failure) { try await c.bind(dn: user.dn, password: password) } catch {
            let data = ADRefusal.bindData(error.diagnostic)
            if ["533", "775", "701", "530", "531"].contains(data ?? "") {
                throw Failure(kind: .disabled, message: "the directory refuses the sign-in (data \(data ?? ""))", account: canonical)
            }
            throw Failure(kind: error.isConnection ? .unavailable : .invalidCredentials, message: "bind: \(error.text)", account: canonical)
        }
        let realm = ADDomain(namingContext: config.baseDN).realm
        if config.kerberos, let sam = user.string("sAMAccountName"), let e = Self.endpoint(config.url), !realm.isEmpty {
            // The KDC of the DC that answered the bind (another may not have a change yet).
            let kdc = KerberosCheck(kdcHost: await c.peerAddress() ?? e.host, kdcPort: 88, realm: realm, timeout: config.timeout)
            if case .refused = await kdc.check(account: sam, password: password) {
                throw Failure(kind: .invalidCredentials, message: "the KDC refuses the password (a previous one, which a bind still accepts)",
                    account: canonical)
            }
        }
        do throws(LDAPConnection.Failure) {
            try await c.bind(dn: config.bindDN, password: config.bindPassword)
            var member: [String] = []
            for g in groups {
                let hit = try await c.search(base: user.dn, scope: .base, filter: "(memberOf:1.2.840.113556.1.4.1941:=\(LDAPConnection.escapeFilter(g)))",
                    attributes: ["distinguishedName"])
                if !hit.isEmpty { member.append(g) }
            }
            return Identity(name: canonical, dn: user.dn, email: user.string("mail"), groups: member)
        } catch { throw Failure(kind: .unavailable, message: "group membership: \(error.text)", account: canonical) }
    }
}
