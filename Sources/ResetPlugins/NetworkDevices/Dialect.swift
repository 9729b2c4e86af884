import Foundation
import Shared

/// A device family as data (one YAML file): its modes and prompts, how to move between them,
/// paging, error messages, the change and save dialogues, and the passwords it can take.
public struct Dialect: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Resource types this dialect serves (e.g. "Cisco IOS").
    public var resourceTypes: [String]
    public var login: Login
    /// Ordered from least to most privileged; each mode is entered from the one before it.
    public var modes: [Mode]
    /// Pager prompts, answered with a space wherever they appear.
    public var pagers: [String]
    /// Sent once the session reaches `mode` (or starts above it); errors are ignored.
    public var paging: Procedure?
    /// Text that means a command failed, looked for in each command's output (not its echo).
    public var errors: [String]
    /// The change procedures by name (`user`, `enable`, ...); `credentials` says which account uses which.
    public var change: [String: Procedure]
    /// The credentials this dialect can change, how an account maps to one, and the verify that
    /// proves it (see `Dialect+Credentials`). Without it, the legacy `change` keys decide.
    public var credentials: [Credential]?
    /// Copy the running configuration to startup (the reset config's copyToStartup).
    public var save: Procedure?
    /// Sent before leaving a mode after a failure (JunOS: discard the uncommitted candidate).
    public var abort: Procedure?
    public var constraints: Constraints
    /// Values templates take as `{opt:NAME}`: from the account's custom field NAME, else the reset
    /// config's option NAME, else the first allowed value. Only the listed values are accepted.
    public var options: [String: [String]]?

    public struct Login: Codable, Sendable, Equatable {
        /// The user-name prompt (telnet, or when "account name required for login").
        public var username: String
        public var password: String
        /// What a refused login prints.
        public var failure: String
    }

    public struct Mode: Codable, Sendable, Equatable {
        public var name: String
        public var prompt: String
        /// How to enter this mode from the previous one (nil for the first).
        public var enter: Step?
        /// How to go back to the previous mode.
        public var leave: Step?
        /// What entering the mode prints when it is refused (e.g. "% Bad secrets").
        public var failure: String?
        /// A configuration mode: paging commands are not sent in it, and it is left after a change.
        public var config: Bool?
    }

    public struct Procedure: Codable, Sendable, Equatable {
        /// The mode the steps run in.
        public var mode: String
        public var steps: [Step]
    }

    /// One command: `send`, answering `answers` as they come, until the prompt of `expect`
    /// (the procedure's mode by default). `ok` must then appear in the output.
    public struct Step: Codable, Sendable, Equatable {
        public var send: String
        public var answers: [Answer]?
        public var expect: String?
        public var ok: String?
        /// Seconds to wait for this step's answer when it is slow (a commit, a save); default: the reset config's promptTimeout.
        public var timeout: Double?
    }

    /// A prompt inside a step and what to type; asked more than `max` times is a refusal.
    public struct Answer: Codable, Sendable, Equatable {
        public var prompt: String
        public var send: String
        public var max: Int?
        /// What this prompt means when it comes back (`refused` by default).
        public var meaning: String?
    }

    public struct Constraints: Codable, Sendable, Equatable {
        public var minLength: Int?
        public var maxLength: Int
        /// Printable ASCII characters the device cannot take in this dialogue (space included if listed).
        public var forbidden: String?
        /// Why, for the error message.
        public var reason: String?
    }

    /// The placeholders a template may use.
    static let placeholders: Set<String> = ["user", "new", "current", "enable", "enableUser"]
    static let secretPlaceholders: Set<String> = ["new", "current", "enable"]

    public func mode(_ name: String) -> Int? { modes.firstIndex { $0.name == name } }

    /// The library's checks: every pattern compiles, every mode named exists, placeholders are known.
    public func validate() throws(DialectError) {
        func regex(_ p: String, _ field: String) throws(DialectError) {
            if (try? NSRegularExpression(pattern: p)) == nil { throw DialectError(id, "\(field) is not a valid regular expression") }
        }
        func template(_ t: String, _ field: String) throws(DialectError) {
            for name in Self.names(in: t) where !Self.placeholders.contains(name) {
                if name.hasPrefix("opt:"), options?[String(name.dropFirst(4))]?.isEmpty == false { continue }
                throw DialectError(id, "\(field) uses the unknown placeholder {\(name)}")
            }
        }
        func step(_ s: Step, _ field: String, _ mode: String) throws(DialectError) {
            try template(s.send, field + ".send")
            if let e = s.expect, self.mode(e) == nil { throw DialectError(id, "\(field).expect names no mode '\(e)'") }
            if let ok = s.ok { try regex(ok, field + ".ok") }
            if let t = s.timeout, !(1...600).contains(t) { throw DialectError(id, "\(field).timeout must be 1...600 seconds") }
            for (i, a) in (s.answers ?? []).enumerated() {
                try regex(a.prompt, "\(field).answers[\(i)].prompt")
                try template(a.send, "\(field).answers[\(i)].send")
            }
        }
        func procedure(_ p: Procedure, _ field: String) throws(DialectError) {
            guard mode(p.mode) != nil else { throw DialectError(id, "\(field).mode names no mode '\(p.mode)'") }
            for (i, s) in p.steps.enumerated() { try step(s, "\(field).steps[\(i)]", p.mode) }
        }
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
            throw DialectError(id, "the id must be letters, digits and dashes")
        }
        guard !modes.isEmpty else { throw DialectError(id, "no modes") }
        try regex(login.username, "login.username")
        try regex(login.password, "login.password")
        try regex(login.failure, "login.failure")
        for (i, m) in modes.enumerated() {
            try regex(m.prompt, "modes[\(i)].prompt")
            if let f = m.failure { try regex(f, "modes[\(i)].failure") }
            if i > 0, m.enter == nil { throw DialectError(id, "mode \(m.name) has no enter step") }
            if let e = m.enter { try step(e, "modes[\(i)].enter", m.name) }
            if let l = m.leave { try step(l, "modes[\(i)].leave", m.name) }
        }
        for (i, p) in pagers.enumerated() { try regex(p, "pagers[\(i)]") }
        for (i, p) in errors.enumerated() { try regex(p, "errors[\(i)]") }
        for (k, p) in change { try procedure(p, "change.\(k)") }
        if let paging { try procedure(paging, "paging") }
        if let save { try procedure(save, "save") }
        if let abort { try procedure(abort, "abort") }
        for (name, values) in options ?? [:] where values.isEmpty || values.contains(where: { $0.isEmpty || $0.contains(where: \.isWhitespace) }) {
            throw DialectError(id, "options.\(name) must list one or more values without spaces")
        }
        guard (1...512).contains(constraints.maxLength) else { throw DialectError(id, "constraints.maxLength must be 1...512") }
        try validateCredentials()
    }

    /// `{name}` placeholders in a template.
    static func names(in template: String) -> [String] {
        var out: [String] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            out.append(String(rest[rest.index(after: open)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return out
    }
}

/// A dialect file that cannot be used, and why.
public struct DialectError: Error, Sendable, CustomStringConvertible {
    public let dialect: String
    public let message: String
    public init(_ dialect: String, _ message: String) {
        self.dialect = dialect
        self.message = message
    }
    public var description: String { "dialect \(dialect): \(message)" }
}
