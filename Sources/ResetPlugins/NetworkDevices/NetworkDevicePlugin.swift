import Foundation
import Shared

/// The one plugin for every CLI device family: a dialect file says what to type and expect.
/// Accounts are local users (`change.user`), or the enable secret itself when the account is the
/// reset config's enable account (`change.enable`).
public struct NetworkDevicePlugin: ResetPlugin {
    public let dialect: Dialect
    public let descriptor: PluginDescriptor

    public init(dialect: Dialect) {
        self.dialect = dialect
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

    /// Whether this job's account is the enable secret rather than a user.
    func isEnableAccount(_ job: ResetJob) -> Bool {
        dialect.change["enable"] != nil && job.rootAccount?.loginName == job.loginName
    }

    /// The first mode whose way in types the enable secret.
    var enableMode: Int? {
        dialect.modes.indices.first { i in
            guard let e = dialect.modes[i].enter else { return false }
            return Dialect.names(in: e.send + (e.answers ?? []).map(\.send).joined()).contains("enable")
        }
    }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        guard let password = job.currentPassword else { throw ResetFailure(.unsupported, "no password to verify") }
        try Self.checkName(job.loginName)
        if isEnableAccount(job) {
            // The enable secret is checked by entering the first mode that asks for it.
            let login = try loginCredential(job)
            let s = try await DeviceSession.open(job, dialect: dialect, user: login.loginName, password: login.password!,
                values: values(job, enable: password))
            guard let enable = enableMode else {
                await s.close()
                throw ResetFailure(.unsupported, "the \(dialect.name) dialect has no enable mode")
            }
            do throws(ResetFailure) {
                // A login that lands at or above enable proves nothing: go below it first.
                if s.mode >= enable {
                    guard (1...s.mode).allSatisfy({ dialect.modes[$0].leave != nil }) else {
                        throw ResetFailure(.unsupported, "the login account is already privileged and \(dialect.name) has no way down to check the enable secret; use a less privileged login account")
                    }
                    try await s.goTo(enable - 1)
                }
                try await s.goTo(enable)
                await s.close()
            } catch {
                await s.close()
                if error.code == .permissionDenied && s.refused {
                    throw ResetFailure(.authenticationFailed, "the enable secret was refused: \(error.message)")
                }
                throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
            }
            return
        }
        do {
            let s = try await DeviceSession.open(job, dialect: dialect, user: job.loginName, password: password, values: values(job, enable: nil))
            await s.close()
        } catch {
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.unsupported, "no new password") }
        try Self.checkName(job.loginName)
        try check(new)
        let enableRole = isEnableAccount(job)
        let login = try loginCredential(job)
        let procedure = changeProcedure(job, enableRole: enableRole)
        var v = values(job, enable: enableRole ? (job.currentPassword ?? job.rootAccount?.password) : job.rootAccount?.password)
        v.new = new
        // Option values are checked before connecting: a bad one changes nothing.
        for step in procedure.steps {
            for name in Dialect.names(in: step.send + (step.answers ?? []).map(\.send).joined()) where name.hasPrefix("opt:") {
                let allowed = dialect.options?[String(name.dropFirst(4))] ?? []
                if let given = v.options[String(name.dropFirst(4))], !allowed.contains(given) {
                    throw ResetFailure(.unsupported, "\(name.dropFirst(4)) '\(given)' is not one of \(allowed.joined(separator: ", ")) for \(dialect.name)")
                }
            }
        }
        let s = try await DeviceSession.open(job, dialect: dialect, user: login.loginName, password: login.password!, values: v)
        var message = enableRole ? "enable secret changed" : "password of \(job.loginName) changed"
        do throws(ResetFailure) {
            do throws(ResetFailure) {
                try await s.run(procedure, errorCode: .rejectedByTarget, what: "the change")
            } catch {
                // Never leave uncommitted or half-made changes behind (JunOS: rollback).
                if let abort = dialect.abort, error.code != .outcomeUnknown {
                    try? await s.run(abort, errorCode: .protocolError, what: "discarding the change")
                }
                // What a failure after the new password was typed means is the engine's decision (ResetStateMachine).
                throw error
            }
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

    /// Which change: the enable secret, a named built-in account (`account:root`), the line
    /// password (an account that logs itself in without a name), the account changing itself, or a local user.
    func changeProcedure(_ job: ResetJob, enableRole: Bool) -> Dialect.Procedure {
        let c = dialect.change
        if enableRole, let p = c["enable"] { return p }
        if let p = c["account:\(job.loginName)"] { return p }
        let logsItselfIn = job.loginAccount == nil || job.loginAccount?.loginName == job.loginName
        if logsItselfIn, !job.settings.accountNameRequired, let p = c["login"] { return p }
        if logsItselfIn, let p = c["self"] { return p }
        return c["user"]!
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
    static func checkName(_ name: String) throws(ResetFailure) {
        let ok = !name.isEmpty && name.count <= 64 && name.first != "-"
            && name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "._@-".unicodeScalars.contains($0)) }
        if !ok { throw ResetFailure(.unsupported, "'\(name)' is not an account name this plugin can type into a device CLI") }
    }
}
