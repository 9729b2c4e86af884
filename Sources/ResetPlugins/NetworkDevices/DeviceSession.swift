import Foundation
import Shared

/// One logged-in CLI session driven by a dialect: it knows the mode it is in, moves between
/// modes, turns paging off once, and runs procedures (see `DeviceSession+Steps`).
final class DeviceSession: KeptSession, @unchecked Sendable {
    typealias P = PromptSession.Pattern

    /// What the templates' placeholders stand for.
    struct Values {
        var user: String
        var new: Secret?
        var current: Secret?
        var enable: Secret?
        var enableUser: String?
        /// `{opt:NAME}` values given by the account's custom fields or the reset config's options.
        var options: [String: String] = [:]
    }

    let prompt: PromptSession
    let dialect: Dialect
    let transport: any Transport
    var values: Values
    /// Index of the current mode in `dialect.modes`.
    var mode = 0
    var pagingDone = false
    /// Told when a line carries the new password (the reset state machine decides what follows).
    var exposure: ResetExposure?
    /// The last failure was the device refusing (an error message, a prompt asked again): definite.
    var refused = false
    /// The SSH host key seen ("SHA256:..."), to pin when learned on first use.
    var hostKey: String?
    let modePatterns: [P]
    /// The reset config's prompts (`login`, `password`, `user`/`shell`, `enable`, `config`).
    let overrides: [String: String]

    init(prompt: PromptSession, transport: any Transport, dialect: Dialect, values: Values, overrides: [String: String]) {
        self.prompt = prompt
        self.transport = transport
        self.dialect = dialect
        self.values = values
        self.overrides = overrides
        prompt.pagers = dialect.pagers.enumerated().map { P("pager\($0.offset)", $0.element) }
        modePatterns = dialect.modes.enumerated().map { i, m in
            let isUser = m.name == "user" || (i == 0 && dialect.mode("user") == nil)
            let key = isUser ? (overrides["user"] ?? overrides["shell"]) : overrides[m.name]
            return P("mode:\(i)", Self.atEnd(key ?? m.prompt))
        }
    }

    /// A prompt is the last thing received: text after it (an echo, a later line) is not a prompt.
    static func atEnd(_ pattern: String) -> String { "(?:\(pattern))[ \\t]*\\z" }

    /// Connects (SSH or telnet) and logs in as `user`; the session is then in some mode.
    static func open(_ job: ResetJob, dialect: Dialect, user: String, password: Secret, values: Values) async throws(ResetFailure)
        -> DeviceSession
    {
        let s = job.settings
        let opened = try await TargetSession.open(job, user: user, credential: .password(password),
            shell: TargetSession.Shell(columns: 511, tracksExposure: false))
        let transport = opened.transport
        guard let prompt = opened.prompt else {
            await transport.close()
            throw ResetFailure(.protocolError, "no shell was opened")
        }
        let session = DeviceSession(prompt: prompt, transport: transport, dialect: dialect, values: values, overrides: s.prompts)
        session.hostKey = opened.hostKey
        session.exposure = job.exposure
        do {
            try await session.login(user: user, password: password, sendName: s.accountNameRequired, telnet: s.transport == .telnet)
            try await session.pagingIfDue()
        } catch {
            await transport.close()
            throw error
        }
        return session
    }

    /// The in-band login (telnet, or a device that asks again after SSH): name, password, a mode prompt.
    func login(user: String, password: Secret, sendName: Bool, telnet: Bool) async throws(ResetFailure) {
        var sentName = false
        var sentPassword = false
        for _ in 0..<8 {
            // A banner may say "access denied" too: refusal text counts only once a password was typed.
            let failure = sentPassword ? [P("failure", dialect.login.failure)] : []
            let m = try await prompt.expect(
                modePatterns + failure + [P("username", Self.atEnd(dialectPrompt("login", dialect.login.username))),
                    P("password", Self.atEnd(dialectPrompt("password", dialect.login.password)))], what: "the login prompt or the device prompt")
            switch m.name {
            case "failure": throw ResetFailure(.authenticationFailed, "the device refused the login as \(user)")
            case "username":
                if sentName { throw ResetFailure(.authenticationFailed, "the device refused the login as \(user) (asked for the name again)") }
                if !sendName {
                    throw ResetFailure(.protocolError, "the device asks for a user name but accountNameRequired is false")
                }
                try await prompt.send(user)
                sentName = true
            case "password":
                if sentPassword { throw ResetFailure(.authenticationFailed, "the device refused the password of \(user)") }
                try await prompt.sendSecret(password)
                sentPassword = true
            default:
                mode = Int(m.name.dropFirst(5)) ?? 0
                return
            }
        }
        throw ResetFailure(.protocolError, "the login dialogue did not end")
    }

    func dialectPrompt(_ key: String, _ fallback: String) -> String { overrides[key] ?? fallback }

    /// Moves up (entering modes) or down (leaving them) to `target`.
    func goTo(_ target: Int) async throws(ResetFailure) {
        while mode < target {
            let next = dialect.modes[mode + 1]
            guard let enter = next.enter else { throw ResetFailure(.protocolError, "no way into mode \(next.name)") }
            try await run(enter, in: mode + 1, failure: next.failure, errorCode: .permissionDenied, what: "entering \(next.name) mode")
            try await pagingIfDue()
        }
        while mode > target {
            guard let leave = dialect.modes[mode].leave else {
                throw ResetFailure(.protocolError, "no way out of mode \(dialect.modes[mode].name)")
            }
            try await run(leave, in: mode - 1, failure: nil, errorCode: .protocolError, what: "leaving \(dialect.modes[mode].name) mode")
        }
    }

    /// Paging off, once, in the first mode at or above the paging mode that is not a configuration mode.
    func pagingIfDue() async throws(ResetFailure) {
        guard !pagingDone, let paging = dialect.paging, let at = dialect.mode(paging.mode), mode >= at,
            dialect.modes[mode].config != true
        else { return }
        pagingDone = true
        for step in paging.steps {
            // A device that keeps paging is still usable: its pagers are answered.
            do { try await run(step, in: mode, failure: nil, errorCode: .rejectedByTarget, what: "turning paging off") } catch
            where error.code == .rejectedByTarget {}
        }
    }

    func close() async { await transport.close() }

    /// A kept session before its next change: an empty line brings back a mode prompt in time
    /// (text already received, such as a prompt reprinted while idle, does not count).
    func stillReady(timeout: Double) async throws(ResetFailure) {
        prompt.skipReceived()
        try await prompt.send("")
        let m = try await prompt.expect(modePatterns, timeout: timeout, what: "the kept session's prompt")
        mode = Int(m.name.dropFirst(5)) ?? mode
    }
}
