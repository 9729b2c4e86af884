import Foundation
import Shared

/// Logs in to a Unix target; tests and other transports can stand in.
public protocol UnixConnector: Sendable {
    func login(_ job: ResetJob, user: String, credential: LoginCredential, shell: Bool) async throws(ResetFailure) -> OpenedSession
}

public struct DefaultUnixConnector: UnixConnector {
    public init() {}

    /// The target session (SSH or telnet); over telnet, the `login:` / `Password:` dialogue too.
    public func login(_ job: ResetJob, user: String, credential: LoginCredential, shell: Bool) async throws(ResetFailure) -> OpenedSession {
        let opened = try await TargetSession.open(job, user: user, credential: credential, shell: shell ? TargetSession.Shell() : nil)
        guard job.settings.transport == .telnet, let prompt = opened.prompt else { return opened }
        let pw: Secret
        switch credential {
        case .password(let p), .passwordOrExpiredChange(let p, _): pw = p
        case .publicKey: throw ResetFailure(.unsupported, "telnet logs in with a password only")
        }
        do {
            try await TelnetLogin.login(prompt, user: user, password: pw, prompts: job.settings.prompts)
            return opened
        } catch {
            await opened.close()
            throw error
        }
    }
}
