import Foundation
import Shared

/// A change through a privileged session shared by one host's accounts (`SharedSessions`): the
/// login and su are done once; each change is still its own job, written ahead by the engine,
/// typed in turn, and verified by a fresh login. What goes wrong closes the session.
extension UnixPlugin {
    func sharedChange(_ job: ResetJob, _ sessions: SharedSessions, _ key: SharedSessions.Key, login: ResetJob.Credential,
        credential: LoginCredential, new: Secret) async throws(ResetFailure) -> ResetReport
    {
        let open = { () async throws(ResetFailure) -> any KeptSession in try await self.openPrivileged(job, login, credential) }
        var lease = try await sessions.lease(key, pin: job.settings.hostKey, open: open)
        if lease.uses > 0 {
            // Nothing of this account was sent yet: a kept shell that does not answer is replaced.
            do throws(ResetFailure) {
                guard let prompt = (lease.opened as? KeptShell)?.prompt else { throw ResetFailure(.protocolError, "no interactive session") }
                prompt.rebind(job)
                try await UnixDialogue(session: prompt, job: job).stillReady(UInt32.random(in: 0...UInt32.max), root: job.settings.elevation == .su,
                    timeout: min(job.settings.promptTimeout, 5))
            } catch {
                await sessions.discard(lease)
                lease = try await sessions.lease(key, pin: job.settings.hostKey, reuse: false, open: open)
            }
        }
        guard let prompt = (lease.opened as? KeptShell)?.prompt else {
            await sessions.discard(lease)
            throw ResetFailure(.protocolError, "no interactive session")
        }
        prompt.rebind(job)
        do throws(ResetFailure) {
            try await UnixDialogue(session: prompt, job: job).change(user: job.loginName, new: new,
                sudo: job.settings.elevation == .sudo, sudoPassword: login.password, sudoTicket: lease.uses > 0)
        } catch {
            await sessions.discard(lease)
            // Text an earlier job caused may still have been buffered: every job's secrets are redacted.
            throw ResetFailure(error.code, Secret.redact(error.message, prompt.secrets + job.secrets))
        }
        let turn = lease.uses + 1
        await sessions.giveBack(lease)
        return ResetReport(message: "password of \(job.loginName) changed (shared session, change \(turn))", learnedHostKey: lease.opened.hostKey)
    }

    /// Logs in and elevates: the session a run's changes share.
    private func openPrivileged(_ job: ResetJob, _ login: ResetJob.Credential, _ credential: LoginCredential) async throws(ResetFailure)
        -> KeptShell
    {
        let opened = try await connector.login(job, user: login.loginName, credential: credential, shell: true)
        guard let prompt = opened.prompt else {
            await opened.close()
            throw ResetFailure(.protocolError, "no interactive session")
        }
        do throws(ResetFailure) {
            let dialogue = UnixDialogue(session: prompt, job: job)
            if try await dialogue.awaitShellOrExpiry() {
                throw ResetFailure(.authenticationFailed, "the password of the login account \(login.loginName) has expired")
            }
            try await dialogue.sync()
            if job.settings.elevation == .su { try await dialogue.su(job.rootAccount) }
            return KeptShell(opened, sudo: job.settings.elevation == .sudo)
        } catch {
            await opened.close()
            throw ResetFailure(error.code, Secret.redact(error.message, job.secrets))
        }
    }
}
