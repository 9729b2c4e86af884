import Foundation
import Shared

public enum LoginCredential: Sendable {
    case password(Secret)
    case publicKey(Secret)
    /// A self-change: if the password turns out expired at login, the login itself changes it.
    case passwordOrExpiredChange(current: Secret, new: Secret)
}

/// A session on a target: a prompt engine when a shell was asked for, and the host key seen.
public final class OpenedSession: @unchecked Sendable {
    public let prompt: PromptSession?
    public let hostKey: String?
    /// The login itself changed an expired password (keyboard-interactive).
    public let changedAtLogin: Bool
    let transport: any Transport

    init(prompt: PromptSession?, hostKey: String?, transport: any Transport, changedAtLogin: Bool = false) {
        self.prompt = prompt
        self.hostKey = hostKey
        self.transport = transport
        self.changedAtLogin = changedAtLogin
    }

    public func close() async { await transport.close() }
}

/// The one way onto a target's command line, for the Unix and the device plugins. SSH connects
/// (the host key checked against the job's pin, or learned), authenticates and opens a shell on a
/// PTY; telnet connects, and its in-band login is the caller's dialogue (a Unix `login:` or a
/// device dialect's). Either way the prompt session carries the job's line ending, timeout and
/// secrets. Whatever fails closes the connection.
enum TargetSession {
    struct Shell {
        /// The PTY's width (devices ask for wide lines, so a long command is not wrapped).
        var columns: Int32 = 200
        /// The prompt session reports typing the new password to the job's exposure (devices
        /// report their own lines).
        var tracksExposure = true
    }

    /// Connects and, over SSH, logs in; nil `shell` opens none (SSH only: a login check).
    static func open(_ job: ResetJob, user: String, credential: LoginCredential, shell: Shell?) async throws(ResetFailure)
        -> OpenedSession
    {
        let s = job.settings
        switch s.transport {
        case .ssh:
            let ssh = try await SSHConnection.connect(SSHConnection.Options(job: job))
            do {
                var changed = false
                switch credential {
                case .password(let pw): try await ssh.authenticate(user: user, .password(pw))
                case .publicKey(let key): try await ssh.authenticate(user: user, .publicKey(privateKey: key, passphrase: nil))
                case .passwordOrExpiredChange(let current, let new):
                    changed = try await ssh.authenticate(user: user, .passwordOrExpiredChange(current: current, new: new),
                        exposure: job.exposure)
                }
                if changed { return OpenedSession(prompt: nil, hostKey: ssh.hostKey, transport: ssh, changedAtLogin: true) }
                guard let shell else { return OpenedSession(prompt: nil, hostKey: ssh.hostKey, transport: ssh) }
                try await ssh.openShell(columns: shell.columns)
                return OpenedSession(prompt: prompt(ssh, job, shell), hostKey: ssh.hostKey, transport: ssh)
            } catch {
                await ssh.close()
                throw error
            }
        case .telnet:
            if case .publicKey = credential { throw ResetFailure(.unsupported, "telnet logs in with a password only") }
            let telnet = try await TelnetTransport.connect(host: job.host, port: s.port, timeout: s.connectTimeout)
            return OpenedSession(prompt: prompt(telnet, job, shell ?? Shell()), hostKey: nil, transport: telnet)
        }
    }

    private static func prompt(_ transport: any Transport, _ job: ResetJob, _ shell: Shell) -> PromptSession {
        let s = job.settings
        // Telnet's network virtual terminal ends lines with CR LF.
        let ending = s.transport == .telnet && s.lineEnding == "\n" ? "\r\n" : s.lineEnding
        let prompt = PromptSession(transport: transport, lineEnding: ending, secrets: job.secrets, timeout: s.promptTimeout)
        if shell.tracksExposure { prompt.track(job) }
        return prompt
    }
}
