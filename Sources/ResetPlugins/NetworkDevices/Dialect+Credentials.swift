import Foundation
import Shared

extension Dialect {
    /// One credential a device keeps (a local user, the enable secret, ProCurve's manager), how an
    /// account is recognised as it, and what a verify must see to prove it. An account that no
    /// credential claims is refused before connecting: it never falls back to another credential.
    public struct Credential: Codable, Sendable, Equatable {
        public var name: String
        /// The procedure in `change` that sets it.
        public var change: String
        /// Login names that are this credential (ProCurve `manager`, JunOS `root`).
        public var accounts: [String]?
        /// The reset config's enable account is this credential (the enable secret; ProCurve's manager).
        public var enableAccount: Bool?
        /// An account that logs itself in without an account name is this credential (the line password).
        public var lineLogin: Bool?
        /// An account that logs itself in (a command that changes the session's own password).
        public var selfLogin: Bool?
        /// An explicit choice: the option NAME (account custom field, else reset-config option) has this value.
        public var option: [String: String]?
        /// Any other account, by its login name (local users). At most one credential has it.
        public var anyAccount: Bool?
        public var verify: Verify?
    }

    /// How a verify proves the credential; by default a login as the account.
    public struct Verify: Codable, Sendable, Equatable {
        /// Log in with the login account, go below this mode, then enter it: the secret is typed on the way in.
        public var enters: String?
        /// A login as the account must land in exactly this mode; landing higher or lower is another credential.
        public var lands: String?
    }

    /// The credentials as written, or derived from the legacy `change` keys (`enable`, `account:NAME`,
    /// `login`, `self`, `user`) for dialect files that predate `credentials`.
    public var allCredentials: [Credential] {
        if let credentials { return credentials }
        var out: [Credential] = []
        if change["enable"] != nil {
            out.append(Credential(name: "enable secret", change: "enable", enableAccount: true,
                verify: enableModeName.map { Verify(enters: $0) }))
        }
        for key in change.keys.sorted() where key.hasPrefix("account:") {
            out.append(Credential(name: String(key.dropFirst(8)), change: key, accounts: [String(key.dropFirst(8))]))
        }
        if change["login"] != nil { out.append(Credential(name: "line password", change: "login", lineLogin: true)) }
        if change["self"] != nil { out.append(Credential(name: "own password", change: "self", selfLogin: true)) }
        if change["user"] != nil { out.append(Credential(name: "local user", change: "user", anyAccount: true)) }
        return out
    }

    /// The first mode whose way in types the enable secret.
    var enableModeName: String? {
        modes.first { m in
            guard let e = m.enter else { return false }
            return Self.names(in: e.send + (e.answers ?? []).map(\.send).joined()).contains("enable")
        }?.name
    }

    /// `credentials` refers only to what exists, and no two credentials claim the same account.
    func validateCredentials() throws(DialectError) {
        guard let list = credentials else {
            guard change["user"] != nil else { throw DialectError(id, "change.user is required (or a credentials list)") }
            return
        }
        guard !list.isEmpty else { throw DialectError(id, "credentials must list at least one credential") }
        var names = Set<String>(), accounts = Set<String>(), choices = Set<String>()
        for (i, c) in list.enumerated() {
            let f = "credentials[\(i)]"
            guard !c.name.isEmpty, names.insert(c.name).inserted else { throw DialectError(id, "\(f).name must be set and unique") }
            guard change[c.change] != nil else { throw DialectError(id, "\(f).change names no procedure '\(c.change)' in change") }
            for a in c.accounts ?? [] where a.isEmpty || !accounts.insert(a).inserted {
                throw DialectError(id, "\(f).accounts: '\(a)' is empty or claimed by another credential")
            }
            if let o = c.option {
                guard o.count == 1, let (k, v) = o.first, options?[k]?.contains(v) == true else {
                    throw DialectError(id, "\(f).option must be one option listed under options, with one of its values")
                }
                guard choices.insert("\(k)=\(v)").inserted else { throw DialectError(id, "\(f).option \(k): \(v) picks two credentials") }
            }
            for m in [c.verify?.enters, c.verify?.lands].compactMap({ $0 }) where mode(m) == nil {
                throw DialectError(id, "\(f).verify names no mode '\(m)'")
            }
            if c.verify?.enters != nil, c.verify?.lands != nil { throw DialectError(id, "\(f).verify takes enters or lands, not both") }
            let selectors = [c.accounts?.isEmpty == false, c.enableAccount == true, c.lineLogin == true, c.selfLogin == true,
                c.option != nil, c.anyAccount == true]
            guard selectors.contains(true) else { throw DialectError(id, "\(f) selects no account (accounts, enableAccount, option, ...)") }
        }
        for flag in [\Credential.anyAccount, \.enableAccount, \.lineLogin] where list.filter({ $0[keyPath: flag] == true }).count > 1 {
            throw DialectError(id, "credentials: only one credential may take \(flag == \.anyAccount ? "anyAccount" : flag == \.enableAccount ? "enableAccount" : "lineLogin")")
        }
        let used = Set(list.map(\.change))
        if let unused = change.keys.sorted().first(where: { !used.contains($0) }) {
            throw DialectError(id, "change.\(unused) is used by no credential")
        }
    }
}
