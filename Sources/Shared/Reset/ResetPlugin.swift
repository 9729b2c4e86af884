/// Every way of changing or checking a password: built-in plugins, the agent seen from the
/// server, the agent's local plugin, script and custom listeners.
public protocol ResetPlugin: Sendable {
    var descriptor: PluginDescriptor { get }
    /// Logs in with the account's stored password (`job.currentPassword`).
    func verify(_ job: ResetJob) async throws(ResetFailure)
    /// Changes the password on the target from `job.currentPassword` to `job.newPassword`.
    func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport
    /// The port to use when the reset config names none (nil: the transport's).
    func defaultPort(_ settings: ResetSettings) -> Int?
    /// Refuses a login name this plugin cannot pass to its target (see `LoginName`).
    func checkLoginName(_ name: String) throws(ResetFailure)
    /// Options a resource type implies, under the reset config's own (e.g. `ldapType: ad` for `Windows Domain`).
    func defaultOptions(resourceType: String) -> [String: String]
}

extension ResetPlugin {
    public func defaultPort(_ settings: ResetSettings) -> Int? { nil }
    public func defaultOptions(resourceType: String) -> [String: String] { [:] }
}

/// What a plugin is and what passwords it can set.
public struct PluginDescriptor: Codable, Sendable, Equatable {
    public var id: String
    public var resourceTypes: [String]
    public var capabilities: Set<Capability>
    public var constraints: PasswordConstraints

    public enum Capability: String, Codable, Sendable, CaseIterable { case reset, verify, selfChange, elevation }

    public init(id: String, resourceTypes: [String], capabilities: Set<Capability>, constraints: PasswordConstraints = .init()) {
        self.id = id
        self.resourceTypes = resourceTypes
        self.capabilities = capabilities
        self.constraints = constraints
    }
}

/// Limits of what a target accepts, applied before anything is sent.
public struct PasswordConstraints: Codable, Sendable, Equatable {
    public var maxLength: Int
    /// Characters that may appear; nil means any printable character.
    public var allowedCharacters: String?
    /// Whether non-ASCII characters may appear.
    public var allowsNonASCII: Bool
    /// Special characters the generator may use for this target.
    public var generatorSpecials: String

    public init(maxLength: Int = 256, allowedCharacters: String? = nil, allowsNonASCII: Bool = true,
        generatorSpecials: String = "!#$%&()*+,-./:;<=>?@[]^_{|}~")
    {
        self.maxLength = maxLength
        self.allowedCharacters = allowedCharacters
        self.allowsNonASCII = allowsNonASCII
        self.generatorSpecials = generatorSpecials
    }

    /// Why the target cannot take `password`; nil when it can. Never quotes the password.
    public func problem(with password: Secret) -> String? {
        let s = password.reveal()
        if s.isEmpty { return "the password is empty" }
        if s.count > maxLength { return "the target accepts at most \(maxLength) characters" }
        for scalar in s.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7f { return "the password contains a control character" }
            if !allowsNonASCII && !scalar.isASCII { return "the target accepts ASCII characters only" }
            if let allowed = allowedCharacters, !allowed.unicodeScalars.contains(scalar) {
                return "the password contains a character the target does not accept"
            }
        }
        return nil
    }
}
