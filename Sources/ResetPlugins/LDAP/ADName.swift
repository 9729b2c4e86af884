import Foundation

/// How an administrator names a domain account: a distinguished name, a user principal name
/// (`alice@custody.test`), `DOMAIN\alice`, or the bare `sAMAccountName`.
struct ADName: Sendable, Equatable {
    enum Form: Sendable, Equatable {
        case dn(String)
        case upn(String)
        case netbios(domain: String, sam: String)
        case sam(String)
    }

    let form: Form

    init(_ name: String) {
        if name.contains("=") {
            form = .dn(name)
        } else if let slash = name.firstIndex(of: "\\") {
            form = .netbios(domain: String(name[..<slash]), sam: String(name[name.index(after: slash)...]))
        } else if name.contains("@") {
            form = .upn(name)
        } else {
            form = .sam(name)
        }
    }

    var dn: String? { if case .dn(let d) = form { d } else { nil } }

    /// The name a simple bind accepts: AD takes a DN, a UPN, `DOMAIN\name`, or `name@dnsDomain`.
    func bindName(dnsDomain: String) -> String {
        switch form {
        case .dn(let d), .upn(let d): d
        case .netbios(let domain, let sam): "\(domain)\\\(sam)"
        case .sam(let sam): "\(sam)@\(dnsDomain)"
        }
    }

    /// A filter finding the account's entry (nil for a DN, which names it already).
    func filter(dnsDomain: String) -> String? {
        let e = LDAPConnection.escapeFilter
        let who: String
        switch form {
        case .dn: return nil
        case .netbios(_, let sam), .sam(let sam): who = "(sAMAccountName=\(e(sam)))"
        case .upn(let upn):
            // `name@dnsDomain` binds even when userPrincipalName is not set (AD's implicit UPN).
            let parts = upn.split(separator: "@", maxSplits: 1).map(String.init)
            let implicit = parts.count == 2 && parts[1].caseInsensitiveCompare(dnsDomain) == .orderedSame
            who = implicit ? "(|(userPrincipalName=\(e(upn)))(sAMAccountName=\(e(parts[0]))))" : "(userPrincipalName=\(e(upn)))"
        }
        return "(&(objectClass=user)\(who))"
    }
}

/// What the root DSE says of the domain: its naming context and the DNS name made from it.
struct ADDomain: Sendable {
    let namingContext: String

    /// `DC=custody,DC=test` → `custody.test`.
    var dnsName: String {
        namingContext.split(separator: ",").compactMap { part -> String? in
            let kv = part.split(separator: "=", maxSplits: 1)
            return kv.count == 2 && kv[0].trimmingCharacters(in: .whitespaces).caseInsensitiveCompare("DC") == .orderedSame
                ? kv[1].trimmingCharacters(in: .whitespaces) : nil
        }.joined(separator: ".")
    }

    var realm: String { dnsName.uppercased() }
}

/// `pwdLastSet` and other AD times: 100 ns intervals since 1601-01-01 UTC.
enum FileTime {
    static func date(_ value: String?) -> Date? {
        guard let value, let ticks = Int64(value), ticks > 0 else { return nil }
        return Date(timeIntervalSince1970: Double(ticks) / 10_000_000 - 11_644_473_600)
    }
}
