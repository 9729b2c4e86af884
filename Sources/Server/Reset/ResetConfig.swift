import Foundation
import GRDB
import ResetPlugins
import Shared

/// How Custody reaches a resource's target: the body of `PUT /resources/{rid}/reset-config`.
struct ResetConfig: Codable, Sendable, Equatable, APIBody {
    enum Mode: String, Codable, Sendable, CaseIterable { case agentless, agent, none }

    var mode: Mode
    var `protocol`: ResetSettings.TransportKind?
    var port: Int?
    /// Account id or login name on this resource.
    var loginAccount: String?
    var authMethod: ResetSettings.AuthMethod?
    var elevation: ResetSettings.Elevation?
    var rootAccount: String?
    var enableAccount: String?
    var copyToStartup: Bool?
    /// Devices: the login sends the account name (PMP's "Account name required for login"; default true).
    var accountNameRequired: Bool?
    var hostKey: String?
    var prompts: [String: String]?
    /// Plugin-specific: `changeMethod` (passwd | chpasswd), `legacyAlgorithms` (true), `lineEnding` (crlf), `promptTimeout` (s);
    /// LDAP `ldapType`, `tls`, `caFile`, AD `baseDN`, `realm`, `kdcPort`, `kerberos`, `oldPasswordMinutes`; SQL `database`, `hostPart`, `tls`, `caFile`; custom plugins anything.
    var options: [String: String]?
    /// Agent mode: add the local accounts the agent reports, and remove those it no longer has.
    var syncAccountAddition: Bool?
    var syncAccountDeletion: Bool?

    static let fields = ["mode", "protocol", "port", "loginAccount", "authMethod", "elevation", "rootAccount", "enableAccount",
        "copyToStartup", "accountNameRequired", "hostKey", "prompts", "options", "syncAccountAddition", "syncAccountDeletion"]
    static let required = ["mode"]

    func validate() throws {
        try Validate.number(port, field: "port", in: 1...65535)
        Validate.recorder?.note("hostKey", ["pattern": "^SHA256:.{43}$"])
        Validate.recorder?.note("prompts", ["propertyNames": ["enum": Self.promptNames], "additionalProperties": ["type": "string", "maxLength": 500]])
        if Validate.recorder != nil { return try Validate.customFields(options, field: "options") }
        if let hostKey, !(hostKey.hasPrefix("SHA256:") && hostKey.count == 50) {
            throw DomainError.invalid("invalid_field", "field 'hostKey' must be an OpenSSH SHA256 fingerprint (SHA256:...)")
        }
        for (k, v) in prompts ?? [:] {
            guard Self.promptNames.contains(k) else {
                throw DomainError.invalid("invalid_field", "unknown prompt '\(k)'")
            }
            guard v.count <= 500, (try? NSRegularExpression(pattern: v)) != nil else {
                throw DomainError.invalid("invalid_field", "prompt '\(k)' is not a valid regular expression")
            }
        }
        try Validate.customFields(options, field: "options")
        if let m = options?["changeMethod"], ResetSettings.ChangeMethod(rawValue: m) == nil {
            throw DomainError.invalid("invalid_field", "option changeMethod must be passwd or chpasswd")
        }
        try Self.validateDirectoryAndDatabase(options ?? [:])
        if elevation == .su && rootAccount == nil {
            throw DomainError.invalid("missing_field", "elevation su needs rootAccount")
        }
    }

    /// The LDAP and SQL options: `ldapType`, `tls`, `caFile`, `database`, `hostPart`.
    static let promptNames = ["login", "password", "shell", "user", "root", "enable", "config", "current", "retype"]

    static func validateDirectoryAndDatabase(_ o: [String: String]) throws {
        if let t = o["ldapType"], LDAPPlugin.Directory(rawValue: t) == nil {
            throw DomainError.invalid("invalid_field", "option ldapType must be one of openldap, ad, oid, edirectory")
        }
        if let t = o["tls"], !["none", "ldaps", "starttls", "required", "verify"].contains(t) {
            throw DomainError.invalid("invalid_field", "option tls must be none, ldaps or starttls (LDAP), or none, required or verify (SQL)")
        }
        if let v = o["tlsVerify"], !["true", "false"].contains(v) {
            throw DomainError.invalid("invalid_field", "option tlsVerify must be true or false (default true)")
        }
        if let ca = o["caFile"], !ca.hasPrefix("/") || !FileManager.default.isReadableFile(atPath: ca) {
            throw DomainError.invalid("invalid_field", "option caFile must be an absolute path to a readable PEM file on the server")
        }
        if let base = o["baseDN"], base.isEmpty || base.count > 1024 || !base.contains("=") {
            throw DomainError.invalid("invalid_field", "option baseDN must be a distinguished name (DC=example,DC=com)")
        }
        if let port = o["kdcPort"], !(Int(port).map { (1...65535).contains($0) } ?? false) {
            throw DomainError.invalid("invalid_field", "option kdcPort must be 1...65535 (default 88)")
        }
        if let k = o["kerberos"], !["on", "off"].contains(k) {
            throw DomainError.invalid("invalid_field", "option kerberos must be on or off (default on)")
        }
        if let m = o["oldPasswordMinutes"], !(Int(m).map { (0...100_000).contains($0) } ?? false) {
            throw DomainError.invalid("invalid_field", "option oldPasswordMinutes must be 0...100000 (default 60)")
        }
        if let realm = o["realm"], realm.isEmpty || realm.count > 255 || realm.contains(where: { !($0.isLetter || $0.isNumber || "-.".contains($0)) }) {
            throw DomainError.invalid("invalid_field", "option realm must be a Kerberos realm such as EXAMPLE.COM")
        }
        if let db = o["database"], db.count > 63 || db.contains("\u{0}") {
            throw DomainError.invalid("invalid_field", "option database must be at most 63 characters")
        }
        if let host = o["hostPart"], host.isEmpty || host.count > 255 {
            throw DomainError.invalid("invalid_field", "option hostPart must be 1 to 255 characters (default %)")
        }
    }

    /// What the API answers and the audit records about a config that weakens the transport.
    var transportWarnings: [String] {
        var out: [String] = []
        if options?["tls"] == "none" { out.append("tls: none sends passwords to this directory or database in clear") }
        if self.protocol == .telnet { out.append("telnet sends the login and the new password in clear; prefer ssh where the device has it") }
        if options?["tlsVerify"] == "false" {
            out.append("tlsVerify: false accepts any certificate, so whoever sits on the path can pose as the server and read the passwords")
        }
        return out
    }

    /// A stored config (the JSON of `resetConfigs`); nil when it cannot be read.
    static func decode(_ json: String?) -> ResetConfig? {
        json.flatMap { try? JSONDecoder.api.decode(ResetConfig.self, from: Data($0.utf8)) }
    }

    /// The plugin settings this config describes (the host key as pinned now).
    var settings: ResetSettings {
        var s = ResetSettings()
        s.transport = self.protocol ?? .ssh
        s.port = port ?? (s.transport == .ssh ? 22 : 23)
        s.authMethod = authMethod ?? .password
        s.elevation = elevation ?? .none
        s.changeMethod = options?["changeMethod"].flatMap(ResetSettings.ChangeMethod.init(rawValue:)) ?? .passwd
        s.hostKey = hostKey
        s.prompts = prompts ?? [:]
        s.options = options ?? [:]
        s.legacyAlgorithms = options?["legacyAlgorithms"] == "true"
        if options?["lineEnding"] == "crlf" { s.lineEnding = "\r\n" }
        s.copyToStartup = copyToStartup ?? false
        s.accountNameRequired = accountNameRequired ?? true
        if let t = options?["promptTimeout"].flatMap(Double.init), (1...300).contains(t) { s.promptTimeout = t }
        return s
    }
}

/// Which plugin serves a resource type, and the plugins this server has.
struct PluginRegistry: Sendable {
    var plugins: [String: any ResetPlugin]
    /// Device dialects: `network` finds one by resource type, `dialect:<id>` names one.
    var dialects: DialectLibrary = .builtIn

    static let builtIn = PluginRegistry(plugins: ["unix": UnixPlugin(), "ldap": LDAPPlugin(), "mysql": MySQLPlugin(), "postgresql": PostgresPlugin()])

    func plugin(_ id: String) -> (any ResetPlugin)? { plugins[id] }

    /// Privileged sessions kept between changes (`resetSessionIdleSeconds`); nil until `sharing`.
    var sessions: SharedSessions? = nil

    /// The same plugins, the Unix and device ones keeping their privileged sessions in `pool`.
    func sharing(_ pool: SharedSessions) -> PluginRegistry {
        var r = self
        r.sessions = pool
        if let unix = plugins["unix"] as? UnixPlugin { r.plugins["unix"] = UnixPlugin(connector: unix.connector, sessions: pool) }
        return r
    }

    /// The plugin for a resource type whose plugin id is `id`.
    func plugin(_ id: String, type: String) -> (any ResetPlugin)? {
        if id == "network" { return dialects.dialect(forType: type).map { NetworkDevicePlugin(dialect: $0, sessions: sessions) } }
        if id.hasPrefix("dialect:") { return dialects.dialect(id: String(id.dropFirst(8))).map { NetworkDevicePlugin(dialect: $0, sessions: sessions) } }
        return plugins[id]
    }
}
