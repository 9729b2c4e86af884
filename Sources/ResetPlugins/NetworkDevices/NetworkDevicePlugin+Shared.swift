import Foundation
import Shared

/// Several accounts of one device through one enable session and one save: changes arriving
/// together are batched (`ChangeQueue`); each is typed in turn with its own job (written ahead
/// by the engine, its exposure told), the startup configuration is saved once after them, and
/// each is then verified by a fresh login. A change that fails closes the session; the changes
/// after it get a new one, and the save still covers every change that went through.
extension NetworkDevicePlugin {
    typealias Outcome = ChangeQueue.Outcome

    /// The batch key, when the change may share: a plain local user (not the login, enable or
    /// another named credential, whose change would alter the session's own credentials).
    func sharedKey(_ job: ResetJob, login: ResetJob.Credential) -> SharedSessions.Key? {
        guard let sessions, job.loginAccount != nil, login.loginName != job.loginName else { return nil }
        return sessions.key(job, kind: descriptor.id)
    }

    func batched(_ job: ResetJob, _ key: SharedSessions.Key) async throws(ResetFailure) -> ResetReport {
        guard let sessions else { throw ResetFailure(.protocolError, "no shared sessions") }
        // A batch shares one pinned host key: a follower is never typed into a session its own pin would refuse.
        let batchKey = ChangeQueue.BatchKey(session: key, pin: job.settings.hostKey)
        let outcome = await sessions.batches.run(batchKey, job) { first, more in await self.batch(first, more, sessions, key) }
        return try outcome.get()
    }

    private func batch(_ first: ResetJob, _ more: () -> [ResetJob], _ sessions: SharedSessions, _ key: SharedSessions.Key) async -> [Outcome] {
        var outcomes: [Outcome] = []
        var changed: [Int] = []
        // Changes that may be in the running configuration: those that went through, and those that
        // failed after their password was typed (the engine reconciles them; the save keeps startup
        // equal to what their verify finds).
        var touched = 0
        var lease: SharedSessions.Lease?
        var pending = [first]
        var last = first
        var secrets: [Secret] = []
        while !pending.isEmpty {
            for job in pending {
                secrets += job.secrets
                do throws(ResetFailure) {
                    // A cancelled run (the server stopping) types no further account: nothing of it was sent.
                    if Task.isCancelled { throw ResetFailure(.unreachable, "the server stopped before this change was typed") }
                    let l = try await ready(lease, job, sessions, key)
                    lease = l
                    let message = try await change(l.opened as! DeviceSession, job)
                    changed.append(outcomes.count)
                    touched += 1
                    outcomes.append(.success(ResetReport(message: message, learnedHostKey: l.opened.hostKey)))
                    last = job
                } catch {
                    outcomes.append(.failure(ResetFailure(error.code, Secret.redact(error.message, secrets))))
                    if job.exposure?.reached ?? true { touched += 1 }
                    if let l = lease { await sessions.discard(l) }
                    lease = nil
                }
            }
            // A cancelled leader takes no more: those waiting lead their own batch once it hands on.
            pending = Task.isCancelled ? [] : more()
        }
        guard touched > 0 || lease != nil else { return outcomes }
        // The save covers the running configuration: every change of the batch, whichever session typed it.
        if lease == nil, last.settings.copyToStartup, dialect.save != nil { lease = try? await ready(nil, last, sessions, key) }
        var note = ""
        var broken = lease == nil
        if let s = lease?.opened as? DeviceSession, touched > 0, last.settings.copyToStartup, let save = dialect.save {
            do {
                try await s.run(save, errorCode: .rejectedByTarget, what: "copying to startup")
                note = "; copied to the startup configuration (one save for \(touched) change\(touched == 1 ? "" : "s"))"
            } catch {
                note = "; WARNING: not copied to the startup configuration (\(error.message)); a reload would bring the old password back"
                broken = true
            }
        } else if lease == nil && last.settings.copyToStartup && dialect.save != nil {
            note = "; WARNING: not copied to the startup configuration (no session to save in); a reload would bring the old password back"
        }
        if let s = lease?.opened as? DeviceSession {
            while s.dialect.modes[s.mode].config == true { do { try await s.goTo(s.mode - 1) } catch { broken = true; break } }
        }
        if let l = lease { broken ? await sessions.discard(l) : await sessions.giveBack(l, changes: max(touched, 1)) }
        for i in changed {
            guard case .success(let r) = outcomes[i] else { continue }
            outcomes[i] = .success(ResetReport(message: Secret.redact(r.message + note, secrets), learnedHostKey: r.learnedHostKey))
        }
        return outcomes
    }

    /// The batch's session: the one in hand, a kept one that still answers, or a new one.
    private func ready(_ held: SharedSessions.Lease?, _ job: ResetJob, _ sessions: SharedSessions, _ key: SharedSessions.Key)
        async throws(ResetFailure) -> SharedSessions.Lease
    {
        if let held { return held }
        let open = { () async throws(ResetFailure) -> any KeptSession in try await self.open(job) }
        var lease = try await sessions.lease(key, pin: job.settings.hostKey, open: open)
        if lease.uses > 0, let s = lease.opened as? DeviceSession {
            do throws(ResetFailure) {
                s.prompt.rebind(job, tracksExposure: false)
                try await s.stillReady(timeout: min(job.settings.promptTimeout, 5))
            } catch {
                await sessions.discard(lease)
                lease = try await sessions.lease(key, pin: job.settings.hostKey, reuse: false, open: open)
            }
        }
        // Nothing of an earlier job stays in the session's values or exposure (a save uses `job`'s).
        if let s = lease.opened as? DeviceSession {
            s.values = values(job, enable: job.rootAccount?.password)
            s.exposure = nil
        }
        return lease
    }

    private func open(_ job: ResetJob) async throws(ResetFailure) -> DeviceSession {
        let login = try loginCredential(job)
        var v = values(job, enable: job.rootAccount?.password)
        v.new = job.newPassword
        return try await DeviceSession.open(job, dialect: dialect, user: login.loginName, password: login.password!, values: v)
    }

    /// One account's change in the batch's session; a refusal is discarded as a lone change's is.
    private func change(_ s: DeviceSession, _ job: ResetJob) async throws(ResetFailure) -> String {
        guard let new = job.newPassword else { throw ResetFailure(.unsupported, "no new password") }
        let c = try credential(job)
        guard let procedure = dialect.change[c.change] else { throw ResetFailure(.unsupported, "no change procedure \(c.change)") }
        s.prompt.rebind(job, tracksExposure: false)
        s.exposure = job.exposure
        s.values = values(job, enable: job.rootAccount?.password)
        s.values.new = new
        try await s.change(procedure)
        return "\(c.name) of \(job.loginName) changed (shared session)"
    }
}
