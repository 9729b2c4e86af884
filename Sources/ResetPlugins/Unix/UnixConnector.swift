import Foundation
import Shared

public enum LoginCredential: Sendable {
    case password(Secret)
    case publicKey(Secret)
    /// A self-change: if the password turns out expired at login, the login itself changes it.
    case passwordOrExpiredChange(current: Secret, new: Secret)
}

/// A logged-in session: a prompt engine when a shell was asked for, and the host key seen.
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

/// Logs in to a Unix target; tests and other transports can stand in.
public protocol UnixConnector: Sendable {
    func login(_ job: ResetJob, user: String, credential: LoginCredential, shell: Bool) async throws(ResetFailure) -> OpenedSession
}

public struct DefaultUnixConnector: UnixConnector {
    public init() {}

    public func login(_ job: ResetJob, user: String, credential: LoginCredential, shell: Bool) async throws(ResetFailure) -> OpenedSession {
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
                var prompt: PromptSession? = nil
                if shell {
                    try await ssh.openShell()
                    prompt = PromptSession(transport: ssh, lineEnding: s.lineEnding, secrets: job.secrets, timeout: s.promptTimeout)
                    prompt?.track(job)
                }
                return OpenedSession(prompt: prompt, hostKey: ssh.hostKey, transport: ssh)
            } catch {
                await ssh.close()
                throw error
            }
        case .telnet:
            let pw: Secret
            switch credential {
            case .password(let p), .passwordOrExpiredChange(let p, _): pw = p
            case .publicKey: throw ResetFailure(.unsupported, "telnet logs in with a password only")
            }
            let telnet = try await TelnetTransport.connect(host: job.host, port: s.port, timeout: s.connectTimeout)
            let prompt = PromptSession(transport: telnet, lineEnding: s.lineEnding == "\n" ? "\r\n" : s.lineEnding, secrets: job.secrets,
                timeout: s.promptTimeout)
            prompt.track(job)
            do {
                try await TelnetLogin.login(prompt, user: user, password: pw, prompts: s.prompts)
                return OpenedSession(prompt: prompt, hostKey: nil, transport: telnet)
            } catch {
                await telnet.close()
                throw error
            }
        }
    }
}
