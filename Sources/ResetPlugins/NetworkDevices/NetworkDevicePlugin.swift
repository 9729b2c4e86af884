import Foundation
import Shared

/// The one plugin for every CLI device family: a dialect file says what to type and expect, and
/// which credential each account is (`credentials`, see `NetworkDevicePlugin+Credentials`).
public struct NetworkDevicePlugin: ResetPlugin {
    public let dialect: Dialect
    public let descriptor: PluginDescriptor

    /// Sessions kept, and changes batched, per device and login (nil: a session per change).
    public let sessions: SharedSessions?

    public init(dialect: Dialect, sessions: SharedSessions? = nil) {
        self.dialect = dialect
        self.sessions = sessions
        descriptor = PluginDescriptor(id: "network:\(dialect.id)", resourceTypes: dialect.resourceTypes,
            capabilities: [.reset, .verify, .elevation], constraints: Self.constraints(dialect.constraints))
    }

    public func defaultPort(_ settings: ResetSettings) -> Int? { settings.transport == .ssh ? 22 : 23 }

    /// Printable ASCII without what the dialect forbids; the generator uses the same set.
    static func constraints(_ c: Dialect.Constraints) -> PasswordConstraints {
        let forbidden = Set((c.forbidden ?? "").unicodeScalars)
        let allowed = String(String.UnicodeScalarView((0x20...0x7E).compactMap(Unicode.Scalar.init).filter { !forbidden.contains($0) }))
        let specials = PasswordConstraints().generatorSpecials.filter { !forbidden.contains($0.unicodeScalars.first!) }
        return PasswordConstraints(maxLength: c.maxLength, allowedCharacters: allowed, allowsNonASCII: false, generatorSpecials: specials)
    }

    /// Checks the credential the account is (before connecting), then proves it: by entering the
    /// mode its secret opens (`verify.enters`), or by logging in as the account (landing in `verify.lands`).
    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        guard let password = job.currentPassword else { throw ResetFailure(.unsupported, "no password to verify") }
        try Self.checkName(job.loginName)
        let c = try credential(job)
        if let mode = c.verify?.enters {
            try await verifyByEntering(job, mode: mode, password: password)
        } else {
            try await verifyByLogin(job, c, password: password)
        }
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.unsupported, "no new password") }
        try Self.checkName(job.loginName)
        try check(new)
        let c = try credential(job)
        let login = try loginCredential(job)
        guard let procedure = dialect.change[c.change] else { throw ResetFailure(.unsupported, "no change procedure \(c.change)") }
        // The enable account's own current password is the secret that opens enable mode.
        let isEnableAccount = job.rootAccount?.loginName == job.loginName
        if !isEnableAccount, c.anyAccount == true, let key = sharedKey(job, login: login) {
            return try await batched(job, key)
        }
        var v = values(job, enable: (isEnableAccount ? job.currentPassword : nil) ?? job.rootAccount?.password)
        v.new = new
        let s = try await DeviceSession.open(job, dialect: dialect, user: login.loginName, password: login.password!, values: v)
        var message = "\(c.name) of \(job.loginName) changed"
        do throws(ResetFailure) {
            try await s.change(procedure)
            if job.settings.copyToStartup, let save = dialect.save {
                do {
                    try await s.run(save, errorCode: .rejectedByTarget, what: "copying to startup")
                    message += "; copied to the startup configuration"
                } catch {
                    message += "; WARNING: not copied to the startup configuration (\(error.message)); a reload would bring the old password back"
                }
            }
            // Leave configuration modes cleanly; the result is already known.
            while s.dialect.modes[s.mode].config == true { do { try await s.goTo(s.mode - 1) } catch { break } }
            await s.close()
        } catch {
            await s.close()
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
        return ResetReport(message: Secret.redact(message, job.secrets), learnedHostKey: s.hostKey)
    }

    /// The account that logs in: the login account, or the account itself.
    func loginCredential(_ job: ResetJob) throws(ResetFailure) -> ResetJob.Credential {
        let c = job.loginAccount ?? ResetJob.Credential(loginName: job.loginName, password: job.currentPassword)
        guard c.password != nil else { throw ResetFailure(.unsupported, "devices log in with a password: \(c.loginName) has none") }
        try Self.checkName(c.loginName)
        return c
    }

    func values(_ job: ResetJob, enable: Secret?) -> DeviceSession.Values {
        var options = job.settings.options
        for (k, v) in job.account where dialect.options?[k] != nil { options[k] = v }
        return DeviceSession.Values(user: job.loginName, new: nil, current: job.currentPassword, enable: enable,
            enableUser: job.rootAccount?.loginName, options: options)
    }

    /// The dialect's limits, with the reason, before anything is sent.
    func check(_ new: Secret) throws(ResetFailure) {
        let c = dialect.constraints
        if let min = c.minLength, new.reveal().count < min {
            throw ResetFailure(.unsupported, "\(dialect.name) needs at least \(min) characters")
        }
        if let problem = descriptor.constraints.problem(with: new) {
            throw ResetFailure(.unsupported, "\(dialect.name): \(problem)\(c.reason.map { " (\($0))" } ?? "")")
        }
    }

    /// Names go into command lines: letters, digits and `._@-` only.
    static func checkName(_ name: String) throws(ResetFailure) { try LoginName.check(name) }

    public func checkLoginName(_ name: String) throws(ResetFailure) { try LoginName.check(name) }
}
