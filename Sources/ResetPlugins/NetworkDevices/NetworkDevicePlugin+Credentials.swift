import Foundation
import Shared

extension NetworkDevicePlugin {
    /// The credential this job's account is, decided before connecting:
    /// 1. by its identity: its login name (`accounts`), being the reset config's enable account, or
    ///    logging itself in without a name (`lineLogin`); two different ones are refused;
    /// 2. an explicit option (`level: operator`) must agree with that identity, else it is refused;
    ///    without an identity, it picks the credential;
    /// 3. else `selfLogin` (the account logs itself in), else `anyAccount` (a local user by name);
    /// 4. else the account is refused (`unsupported`), naming what to set. Never another credential.
    func credential(_ job: ResetJob) throws(ResetFailure) -> Dialect.Credential {
        let name = job.loginName
        let given = values(job, enable: nil).options
        for (k, v) in given.sorted(by: { $0.key < $1.key }) {
            if let allowed = dialect.options?[k], !allowed.contains(v) {
                throw ResetFailure(.unsupported, "\(k) '\(v)' is not one of \(allowed.joined(separator: ", ")) for \(dialect.name)")
            }
        }
        let list = dialect.allCredentials
        let logsItselfIn = job.loginAccount == nil || job.loginAccount?.loginName == name
        let identity = list.filter { c in
            c.accounts?.contains(name) == true || (c.enableAccount == true && job.rootAccount?.loginName == name)
                || (c.lineLogin == true && logsItselfIn && !job.settings.accountNameRequired)
        }
        let choosing = Set(list.compactMap { $0.option?.keys.first }).filter { given[$0] != nil }.sorted()
        let chosen = list.filter { c in c.option.map { $0.allSatisfy { given[$0.key] == $0.value } } ?? false }
        let said = choosing.map { "\($0): \(given[$0]!)" }.joined(separator: ", ")
        if identity.count > 1 {
            throw ResetFailure(.unsupported, "the account '\(name)' is both \(identity.map(\.name).joined(separator: " and ")) on \(dialect.name) "
                + "(by its name and its role in the reset config); use separate accounts for them")
        }
        if let c = identity.first {
            guard choosing.isEmpty || chosen.contains(c) else {
                throw ResetFailure(.unsupported, "the account '\(name)' is the \(c.name) credential of \(dialect.name) (\(why(c, name, job))), "
                    + "but \(said) names another; correct or remove \(choosing.joined(separator: ", "))")
            }
            return c
        }
        if !choosing.isEmpty {
            if let c = chosen.first { return c }
            throw ResetFailure(.unsupported, "\(said) names no credential of \(dialect.name) for the account '\(name)'")
        }
        if logsItselfIn, let c = list.first(where: { $0.selfLogin == true }) { return c }
        if let c = list.first(where: { $0.anyAccount == true }) { return c }
        throw ResetFailure(.unsupported, "\(dialect.name) cannot tell which credential the account '\(name)' is, so nothing was changed. "
            + "It changes \(list.map(describe).joined(separator: "; ")). Rename the account or set that field on it")
    }

    func why(_ c: Dialect.Credential, _ name: String, _ job: ResetJob) -> String {
        if c.accounts?.contains(name) == true { return "by its name" }
        if c.enableAccount == true && job.rootAccount?.loginName == name { return "it is the reset config's enable account" }
        return "it logs itself in without an account name"
    }

    /// "manager (the account named manager, the enable account, or the field level: manager)".
    func describe(_ c: Dialect.Credential) -> String {
        var ways: [String] = []
        if let a = c.accounts, !a.isEmpty { ways.append("the account named \(a.joined(separator: " or "))") }
        if c.enableAccount == true { ways.append("the reset config's enable account") }
        if c.lineLogin == true { ways.append("an account logging itself in without a name") }
        if c.selfLogin == true { ways.append("an account logging itself in") }
        if let (k, v) = c.option?.first { ways.append("an account whose field (or reset-config option) \(k) is \(v)") }
        if c.anyAccount == true { ways.append("any other account") }
        return "\(c.name) (\(ways.joined(separator: ", or ")))"
    }

    /// A verify by logging in as the account; with `lands`, the login must end in exactly that mode.
    func verifyByLogin(_ job: ResetJob, _ c: Dialect.Credential, password: Secret) async throws(ResetFailure) {
        do throws(ResetFailure) {
            let s = try await DeviceSession.open(job, dialect: dialect, user: job.loginName, password: password, values: values(job, enable: nil))
            let landed = s.mode
            await s.close()
            if let lands = c.verify?.lands, let want = dialect.mode(lands), landed != want {
                throw ResetFailure(.authenticationFailed, "the login as \(job.loginName) landed in \(dialect.modes[landed].name) mode, "
                    + "not \(lands) mode: that password opens another credential than \(c.name)")
            }
        } catch {
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
    }

    /// A verify of a secret typed to enter `mode`: log in with the login account, go below the mode, enter it.
    func verifyByEntering(_ job: ResetJob, mode name: String, password: Secret) async throws(ResetFailure) {
        let login = try loginCredential(job)
        guard let enable = dialect.mode(name), enable > 0 else { throw ResetFailure(.unsupported, "the \(dialect.name) dialect has no mode \(name) to enter") }
        let s = try await DeviceSession.open(job, dialect: dialect, user: login.loginName, password: login.password!,
            values: values(job, enable: password))
        do throws(ResetFailure) {
            // A login that lands at or above the mode proves nothing: go below it first.
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
                throw ResetFailure(.authenticationFailed, "the enable secret was refused: \(Secret.redact(error.message, job.secrets))")
            }
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
    }
}
