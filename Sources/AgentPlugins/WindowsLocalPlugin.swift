import Shared

/// Local accounts on Windows: set with `NetUserSetInfo` (level 1003), verified with a network
/// logon (`LogonUserW`), through `WindowsAccounts`. The decisions (what each status means for the
/// reset) are here and tested on Linux with a double; the calls themselves only on Windows.
public struct WindowsLocalPlugin: ResetPlugin {
    public let descriptor = PluginDescriptor(id: "windows-local", resourceTypes: ["Windows"], capabilities: [.reset, .verify],
        constraints: PasswordConstraints(maxLength: 127))
    let accounts: any WindowsAccounts

    public init(accounts: any WindowsAccounts) { self.accounts = accounts }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        try LoginName.check(job.loginName)
        guard let new = job.newPassword else { throw ResetFailure(.rejectedByTarget, "no new password") }
        let status = accounts.setPassword(user: job.loginName, to: new)
        switch status {
        case WindowsStatus.success: return ResetReport(message: "changed with NetUserSetInfo")
        case WindowsStatus.accessDenied: throw ResetFailure(.permissionDenied, "NetUserSetInfo: access denied (the agent runs as LocalSystem)")
        case WindowsStatus.userNotFound: throw ResetFailure(.rejectedByTarget, "no local account \(job.loginName)")
        case WindowsStatus.passwordTooShort, WindowsStatus.invalidPassword:
            throw ResetFailure(.rejectedByTarget, "the password does not meet this machine's password policy (status \(status))")
        default: throw ResetFailure(.rejectedByTarget, "NetUserSetInfo failed with status \(status)")
        }
    }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        try LoginName.check(job.loginName)
        guard let current = job.currentPassword else { throw ResetFailure(.authenticationFailed, "no stored password") }
        guard let error = accounts.logon(user: job.loginName, password: current) else { return }
        switch error {
        case WindowsStatus.logonFailure: throw ResetFailure(.authenticationFailed, "LogonUserW refused the password")
        case WindowsStatus.passwordExpired: throw ResetFailure(.authenticationFailed, "the password works but has expired (error 1330)")
        case WindowsStatus.accountDisabled, WindowsStatus.accountLockedOut, WindowsStatus.accountRestriction:
            throw ResetFailure(.authenticationFailed, "the account cannot log on now (error \(error)): the password was not checked")
        default: throw ResetFailure(.authenticationFailed, "LogonUserW failed (error \(error))")
        }
    }
}
