/// Everything a plugin needs for one reset or verify; also the wire format to agents and
/// external plugins (PMP's listener property names for the resource and account maps).
public struct ResetJob: Codable, Sendable {
    public enum Operation: String, Codable, Sendable { case reset, verify, notify }

    public struct Credential: Codable, Sendable {
        public var loginName: String
        public var password: Secret?
        public var privateKey: Secret?
        public init(loginName: String, password: Secret? = nil, privateKey: Secret? = nil) {
            self.loginName = loginName
            self.password = password
            self.privateKey = privateKey
        }
    }

    public var operation: Operation
    /// RESOURCENAME, IPADDRESS, RESOURCEURL, DOMAINNAME, SSHPORT, RESOURCEDESC, LOCATION, DEPARTMENT, custom fields.
    public var resource: [String: String]
    /// LOGINNAME, DESCRIPTION, custom fields.
    public var account: [String: String]
    public var currentPassword: Secret?
    public var newPassword: Secret?
    /// The remote login account (nil: log in as the target account itself).
    public var loginAccount: Credential?
    /// su's root account, or the enable account on devices.
    public var rootAccount: Credential?
    public var settings: ResetSettings
    /// Where the new password has gone, for the server's reset state machine (never encoded).
    public var exposure: ResetExposure? = nil

    private enum CodingKeys: String, CodingKey {
        case operation, resource, account, currentPassword, newPassword, loginAccount, rootAccount, settings
    }

    public init(operation: Operation, resource: [String: String], account: [String: String], currentPassword: Secret?,
        newPassword: Secret? = nil, loginAccount: Credential? = nil, rootAccount: Credential? = nil, settings: ResetSettings)
    {
        self.operation = operation
        self.resource = resource
        self.account = account
        self.currentPassword = currentPassword
        self.newPassword = newPassword
        self.loginAccount = loginAccount
        self.rootAccount = rootAccount
        self.settings = settings
    }

    public var host: String { resource["IPADDRESS"] ?? resource["RESOURCENAME"] ?? "" }
    public var loginName: String { account["LOGINNAME"] ?? "" }

    /// Every secret in the job, for redacting transcripts and messages.
    public var secrets: [Secret] {
        [currentPassword, newPassword, loginAccount?.password, loginAccount?.privateKey, rootAccount?.password,
            rootAccount?.privateKey].compactMap { $0 }
    }
}

/// How to reach the target: the reset-config of API.md.
public struct ResetSettings: Codable, Sendable, Equatable {
    public enum TransportKind: String, Codable, Sendable, CaseIterable { case ssh, telnet }
    public enum Elevation: String, Codable, Sendable, CaseIterable { case none, su, sudo }
    public enum AuthMethod: String, Codable, Sendable, CaseIterable { case password, publicKey }
    public enum ChangeMethod: String, Codable, Sendable, CaseIterable { case passwd, chpasswd }

    public var transport: TransportKind
    public var port: Int
    public var authMethod: AuthMethod
    public var elevation: Elevation
    public var changeMethod: ChangeMethod
    /// Pinned host key ("SHA256:..."); nil trusts on first use.
    public var hostKey: String?
    public var prompts: [String: String]
    public var options: [String: String]
    /// Allow legacy key exchange and ciphers (old devices only).
    public var legacyAlgorithms: Bool
    /// "\r" or "\r\n".
    public var lineEnding: String
    /// Seconds for each expected prompt.
    public var promptTimeout: Double
    public var connectTimeout: Double
    /// Devices: copy the running configuration to startup after a change.
    public var copyToStartup: Bool
    /// Devices: the login sends the account name at a user-name prompt (false: password only).
    public var accountNameRequired: Bool

    public init(transport: TransportKind = .ssh, port: Int = 22, authMethod: AuthMethod = .password, elevation: Elevation = .none,
        changeMethod: ChangeMethod = .passwd, hostKey: String? = nil, prompts: [String: String] = [:], options: [String: String] = [:],
        legacyAlgorithms: Bool = false, lineEnding: String = "\n", promptTimeout: Double = 15, connectTimeout: Double = 10,
        copyToStartup: Bool = false, accountNameRequired: Bool = true)
    {
        self.copyToStartup = copyToStartup
        self.accountNameRequired = accountNameRequired
        self.transport = transport
        self.port = port
        self.authMethod = authMethod
        self.elevation = elevation
        self.changeMethod = changeMethod
        self.hostKey = hostKey
        self.prompts = prompts
        self.options = options
        self.legacyAlgorithms = legacyAlgorithms
        self.lineEnding = lineEnding
        self.promptTimeout = promptTimeout
        self.connectTimeout = connectTimeout
    }
}

extension ResetSettings {
    private enum CodingKeys: String, CodingKey {
        case transport, port, authMethod, elevation, changeMethod, hostKey, prompts, options, legacyAlgorithms, lineEnding,
            promptTimeout, connectTimeout, copyToStartup, accountNameRequired
    }

    /// Missing fields take their defaults, so a hand-written request (a plugin's test) stays short.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = ResetSettings()
        self.init(transport: try c.decodeIfPresent(TransportKind.self, forKey: .transport) ?? d.transport,
            port: try c.decodeIfPresent(Int.self, forKey: .port) ?? d.port,
            authMethod: try c.decodeIfPresent(AuthMethod.self, forKey: .authMethod) ?? d.authMethod,
            elevation: try c.decodeIfPresent(Elevation.self, forKey: .elevation) ?? d.elevation,
            changeMethod: try c.decodeIfPresent(ChangeMethod.self, forKey: .changeMethod) ?? d.changeMethod,
            hostKey: try c.decodeIfPresent(String.self, forKey: .hostKey),
            prompts: try c.decodeIfPresent([String: String].self, forKey: .prompts) ?? [:],
            options: try c.decodeIfPresent([String: String].self, forKey: .options) ?? [:],
            legacyAlgorithms: try c.decodeIfPresent(Bool.self, forKey: .legacyAlgorithms) ?? d.legacyAlgorithms,
            lineEnding: try c.decodeIfPresent(String.self, forKey: .lineEnding) ?? d.lineEnding,
            promptTimeout: try c.decodeIfPresent(Double.self, forKey: .promptTimeout) ?? d.promptTimeout,
            connectTimeout: try c.decodeIfPresent(Double.self, forKey: .connectTimeout) ?? d.connectTimeout,
            copyToStartup: try c.decodeIfPresent(Bool.self, forKey: .copyToStartup) ?? d.copyToStartup,
            accountNameRequired: try c.decodeIfPresent(Bool.self, forKey: .accountNameRequired) ?? d.accountNameRequired)
    }
}

extension ResetSettings {
    /// LDAP and SQL: whether the server's certificate is checked; only `tlsVerify: false` turns it off.
    public var tlsVerify: Bool { options["tlsVerify"] != "false" }
}
