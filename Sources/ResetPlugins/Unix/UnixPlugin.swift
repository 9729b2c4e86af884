import Foundation
import Shared

/// Unix targets over SSH or telnet: log in (as the login account or the target itself),
/// elevate with su or sudo or not at all, change through the passwd dialogue or chpasswd.
public struct UnixPlugin: ResetPlugin {
    public let descriptor = PluginDescriptor(
        id: "unix", resourceTypes: ["Linux", "Solaris", "HP UNIX", "IBM AIX", "Mac OS", "VMware ESXi"],
        capabilities: [.reset, .verify, .selfChange, .elevation],
        constraints: PasswordConstraints(maxLength: 128))

    /// Opens a transport already logged in; SSH or telnet.
    public let connector: any UnixConnector
    /// Privileged sessions kept between the changes of one host's accounts (nil: none kept).
    public let sessions: SharedSessions?

    public init(connector: any UnixConnector = DefaultUnixConnector(), sessions: SharedSessions? = nil) {
        self.connector = connector
        self.sessions = sessions
    }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        guard let password = job.currentPassword else { throw ResetFailure(.unsupported, "no password to verify") }
        try LoginName.check(job.loginName)
        // Telnet has no login without a shell: its login dialogue is the check.
        let session = try await connector.login(job, user: job.loginName, credential: .password(password), shell: job.settings.transport == .telnet)
        await session.close()
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.unsupported, "no new password") }
        try LoginName.check(job.loginName)
        if let problem = descriptor.constraints.problem(with: new) { throw ResetFailure(.unsupported, problem) }
        let selfChange = job.loginAccount == nil || job.loginAccount?.loginName == job.loginName
        let login = job.loginAccount ?? ResetJob.Credential(loginName: job.loginName, password: job.currentPassword)
        let credential: LoginCredential
        if job.settings.authMethod == .publicKey, let key = login.privateKey {
            credential = .publicKey(key)
        } else if let pw = login.password {
            credential = selfChange && job.settings.elevation == .none ? .passwordOrExpiredChange(current: pw, new: new) : .password(pw)
        } else {
            throw ResetFailure(.unsupported, "no password or key for the login account \(login.loginName)")
        }
        // The session's own credentials (the root account after su) are changed on a session of their own.
        let ownsSession = job.settings.elevation == .su && job.rootAccount?.loginName == job.loginName
        if !selfChange, !ownsSession, job.settings.elevation != .none, let sessions, let key = sessions.key(job) {
            return try await sharedChange(job, sessions, key, login: login, credential: credential, new: new)
        }
        let opened = try await connector.login(job, user: login.loginName, credential: credential, shell: true)
        if opened.changedAtLogin {
            await opened.close()
            return ResetReport(message: "expired password of \(job.loginName) changed during login", learnedHostKey: opened.hostKey)
        }
        guard let prompt = opened.prompt else {
            await opened.close()
            throw ResetFailure(.protocolError, "no interactive session")
        }
        do throws(ResetFailure) {
            let dialogue = UnixDialogue(session: prompt, job: job)
            // An expired password: the system runs the change dialogue itself right after login.
            if try await dialogue.awaitShellOrExpiry() {
                guard selfChange else {
                    throw ResetFailure(.authenticationFailed, "the password of the login account \(login.loginName) has expired")
                }
                try await dialogue.expiredChange(current: job.currentPassword, new: new)
                await opened.close()
                return ResetReport(message: "expired password of \(job.loginName) changed at login", learnedHostKey: opened.hostKey)
            }
            try await dialogue.sync()
            if selfChange && job.settings.elevation == .none {
                try await dialogue.selfChange(current: job.currentPassword, new: new)
            } else {
                if job.settings.elevation == .su { try await dialogue.su(job.rootAccount) }
                try await dialogue.change(user: job.loginName, new: new, sudo: job.settings.elevation == .sudo, sudoPassword: login.password)
            }
            await opened.close()
        } catch {
            await opened.close()
            // Whatever the target printed into a message, no secret of the job leaves in it.
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
        return ResetReport(message: "password of \(job.loginName) changed", learnedHostKey: opened.hostKey)
    }

    /// Login names go into a command line: only the portable POSIX user-name characters.
    public func checkLoginName(_ name: String) throws(ResetFailure) { try LoginName.check(name) }
}
