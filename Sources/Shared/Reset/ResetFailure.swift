/// Why a reset or verify did not succeed. The code decides retry, reconcile and notification;
/// the message goes to the audit and never holds a secret.
public struct ResetFailure: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The stored password is wrong: out of sync.
        public static let authenticationFailed = Code(rawValue: "authenticationFailed")
        /// Network, DNS or refused connection: not out of sync.
        public static let unreachable = Code(rawValue: "unreachable")
        /// The target refused the new password (policy, history, length).
        public static let rejectedByTarget = Code(rawValue: "rejectedByTarget")
        /// Elevation (su, sudo, enable) failed or the account lacks the right.
        public static let permissionDenied = Code(rawValue: "permissionDenied")
        /// An expected prompt did not come in time.
        public static let promptTimeout = Code(rawValue: "promptTimeout")
        /// The SSH host key differs from the pinned one.
        public static let hostKeyMismatch = Code(rawValue: "hostKeyMismatch")
        public static let protocolError = Code(rawValue: "protocolError")
        /// The plugin cannot do this (type, setting or password it cannot handle).
        public static let unsupported = Code(rawValue: "unsupported")
        /// The change was sent and its answer lost: reconcile decides.
        public static let outcomeUnknown = Code(rawValue: "outcomeUnknown")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// True when the failure says nothing changed on the target.
    public var isDefinite: Bool { code != .outcomeUnknown && code != .promptTimeout }
}

/// What a successful reset reports.
public struct ResetReport: Codable, Sendable, Equatable {
    public var message: String
    /// A host key learned on first use, to pin from now on.
    public var learnedHostKey: String?

    public init(message: String = "password changed", learnedHostKey: String? = nil) {
        self.message = message
        self.learnedHostKey = learnedHostKey
    }
}
