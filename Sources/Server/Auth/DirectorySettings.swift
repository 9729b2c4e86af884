import Foundation
import ResetPlugins
import Shared

/// The body of `PUT /settings/directory`: where users sign in with their directory password, and
/// which of their groups gives which role. `bindPassword` left out keeps the stored one (unless
/// the URL or bind DN changes); it is sealed in the vault and never shown.
struct DirectorySettingsBody: Codable, Sendable, Equatable, APIBody {
    struct RoleMapping: Codable, Sendable, Equatable {
        var group: String
        var role: Role
    }

    var url: String
    var caFile: String?
    /// A CA certificate in PEM, kept in the data directory (instead of `caFile`).
    var caPEM: String?
    var bindDN: String
    var bindPassword: Secret?
    var baseDN: String
    var userAttribute: String?
    var roleMappings: [RoleMapping]
    /// false: the bind alone decides (where port 88 of the DC is closed); a previous password then
    /// still signs in for the domain's old-password period. Default true.
    var kerberos: Bool? = nil
    var directorySync: DirectorySync? = nil

    static let fields = ["url", "caFile", "caPEM", "bindDN", "bindPassword", "baseDN", "userAttribute", "roleMappings", "kerberos", "directorySync"]
    static let required = ["url", "bindDN", "baseDN", "roleMappings"]

    func validate() throws {
        if let r = Validate.recorder {
            r.note("url", ["pattern": "^[lL][dD][aA][pP][sS]?://[A-Za-z0-9.-]+(:[1-9][0-9]{0,3})?/?$"])
            for f in ["bindDN", "baseDN"] { r.note(f, ["minLength": 1, "maxLength": 1024, "pattern": "=" ]) }
            r.note("roleMappings", ["minItems": 1, "maxItems": 100])
            r.note("userAttribute", ["pattern": "^[A-Za-z0-9-]{1,64}$"])
            r.note("bindPassword", ["minLength": 1, "maxLength": 1024])
            return
        }
        guard DirectoryLogin.endpoint(url) != nil else {
            throw DomainError.invalid("invalid_field", "url must be ldaps://host[:port] or ldap://host[:port] (StartTLS is then required)")
        }
        if caFile != nil && caPEM != nil { throw DomainError.invalid("invalid_field", "give caFile or caPEM, not both") }
        if let ca = caFile, !ca.hasPrefix("/") || !FileManager.default.isReadableFile(atPath: ca) {
            throw DomainError.invalid("invalid_field", "caFile must be an absolute path to a readable PEM file on the server")
        }
        if let pem = caPEM, !pem.contains("-----BEGIN CERTIFICATE-----") || pem.count > 65_536 {
            throw DomainError.invalid("invalid_field", "caPEM must be one or more PEM certificates")
        }
        for (name, dn) in [("bindDN", bindDN), ("baseDN", baseDN)] where dn.isEmpty || dn.count > 1024 || dn.contains("\0") {
            throw DomainError.invalid("invalid_field", "\(name) must be 1 to 1024 characters")
        }
        guard baseDN.contains("=") else { throw DomainError.invalid("invalid_field", "baseDN must be a distinguished name (DC=example,DC=com)") }
        if let a = userAttribute, a.isEmpty || a.count > 64 || !a.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            throw DomainError.invalid("invalid_field", "userAttribute must be an attribute name such as sAMAccountName or userPrincipalName")
        }
        if let p = bindPassword, p.isEmpty || p.reveal().count > 1024 { throw DomainError.invalid("invalid_field", "bindPassword must be 1 to 1024 characters") }
        guard !roleMappings.isEmpty, roleMappings.count <= 100 else {
            throw DomainError.invalid("invalid_field", "roleMappings needs 1 to 100 entries: a user in no mapped group cannot sign in")
        }
        for m in roleMappings where !m.group.contains("=") || m.group.count > 1024 {
            throw DomainError.invalid("invalid_field", "roleMappings: group must be the distinguished name of a directory group")
        }
        try directorySync?.validate()
        let base = baseDN.lowercased()
        let dns = (directorySync?.users).map { ($0.groups ?? []) + ($0.bases ?? []) } ?? []
        for dn in dns + (directorySync?.resources ?? []).flatMap({ [$0.base, $0.accountsBase].compactMap { $0 } }) where !dn.lowercased().hasSuffix(base) {
            throw DomainError.invalid("invalid_field", "directorySync: \(dn) is not under baseDN \(baseDN)")
        }
    }

    /// The most privileged role among the groups the user is in (PMP's order).
    func role(for groups: [String]) -> Role? {
        let order: [Role] = [.administrator, .passwordAdministrator, .passwordAuditor, .passwordUser]
        let roles = roleMappings.filter { m in groups.contains { $0.caseInsensitiveCompare(m.group) == .orderedSame } }.map(\.role)
        return order.first { roles.contains($0) }
    }
}

/// What `GET /settings/directory` shows: the bind password only as `bindPasswordSet`.
struct DirectorySettingsView: Codable, Sendable {
    var configured = true
    var url: String?
    var caFile: String?
    var caPEM: String?
    var bindDN: String?
    var bindPasswordSet: Bool?
    var baseDN: String?
    var userAttribute: String?
    var roleMappings: [DirectorySettingsBody.RoleMapping]?
    var kerberos: Bool?
    var directorySync: DirectorySync?

    static let none = DirectorySettingsView(configured: false)

    private init(configured: Bool) { self.configured = configured }

    init(_ b: DirectorySettingsBody, passwordSet: Bool) {
        (url, caFile, caPEM, bindDN, bindPasswordSet, baseDN) = (b.url, b.caFile, b.caPEM, b.bindDN, passwordSet, b.baseDN)
        userAttribute = b.userAttribute ?? "sAMAccountName"
        roleMappings = b.roleMappings
        kerberos = b.kerberos ?? true
        directorySync = b.directorySync
    }
}

/// The stored settings with the bind password opened.
struct StoredDirectory: Sendable {
    var body: DirectorySettingsBody
    var bindPassword: Secret?
}
