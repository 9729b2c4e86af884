import Foundation
import Logging
import ResetPlugins
import Shared

/// Listener runs: queued in the transaction that commits a change (so a crash cannot lose one),
/// run off the reset path by `ListenerRunner`, their result audited, never touching the change.
struct ListenerRuns: Sendable {
    typealias Outcome = (ok: Bool, message: String, name: String, r: ResourceRecord?, a: AccountRecord?)

    let store: any ListenerStore
    let vault: Vault
    let programs: ListenerPrograms
    let logger: Logger

    func claim(limit: Int) async throws -> [ListenerRunRecord] { try await store.claimRuns(limit: limit) }

    /// At start: a run a crash interrupted is audited and dropped, not repeated (a listener may
    /// not be safe to run twice). Queued runs stay queued.
    func abandonInterrupted() async throws -> Int {
        try await store.abandonInterrupted { run, name in
            AuditEvent(user: "system", ip: "server", operation: "listener_run", outcome: "failure",
                message: "listener \(name) after \(run.trigger): interrupted by a server stop; not run again", resourceId: run.resourceId,
                accountId: run.accountId)
        }
    }

    /// Runs one listener and audits its result. Errors never reach the change that caused it.
    func run(_ run: ListenerRunRecord) async {
        let outcome: Outcome
        do { outcome = try await execute(run) } catch {
            outcome = (false, "could not run: \(ResetEngine.describe(error))", run.listenerId, nil, nil)
        }
        do {
            try await store.finish(run, audit: AuditEvent(user: "system", ip: "server", operation: "listener_run",
                outcome: outcome.ok ? "success" : "failure", resource: outcome.r?.name, account: outcome.a?.loginName,
                message: "listener \(outcome.name) after \(run.trigger): \(outcome.message)", resourceId: run.resourceId, accountId: run.accountId))
        } catch {
            logger.error("a listener result could not be recorded", metadata: ["run": "\(run.id)", "error": "\(type(of: error))"])
        }
    }

    func execute(_ run: ListenerRunRecord) async throws -> Outcome {
        let facts = try await store.runFacts(run)
        let (r, a) = (facts.resource, facts.account)
        guard let l = facts.listener else { return (false, "skipped: the listener was deleted before it ran", run.listenerId, r, a) }
        guard l.status == .active, l.revision == run.revision else {
            let why = l.status == .active ? "edited and re-approved" : "set to \(l.status.rawValue)"
            return (false, "skipped: the listener was \(why) before it ran", l.name, r, a)
        }
        guard let r, let a else { return (false, "skipped: the account was deleted before it ran", l.name, r, a) }
        let plain = try vault.open(run.sealedSecrets, identity: Vault.listenerRunIdentity(id: run.id))
        let secrets = try JSONDecoder().decode(SQLiteListenerQueue.Secrets.self, from: plain)
        let settings = facts.config?.settings ?? ResetSettings()
        let (resource, account) = ResetEngine.properties(r, a, port: facts.config == nil ? nil : settings.port)
        let job = ResetJob(operation: .notify, resource: resource, account: account, currentPassword: secrets.old,
            newPassword: secrets.new, settings: settings)
        let program = try programs.program(l)
        switch l.kind {
        case .script:
            let via = ScriptListener.SecretsVia(rawValue: l.secretsVia.rawValue) ?? .stdin
            let o = await ScriptListener(program: program, secretsVia: via, additionalParameters: l.additionalParameters).run(job)
            return (o.succeeded, o.summary, l.name, r, a)
        case .custom:
            let start = Date()
            func took() -> String { String(format: "%.1f s", Date().timeIntervalSince(start)) }
            do throws(ResetFailure) {
                let message = try await ExternalPlugin(id: l.name, program: program, arguments: l.additionalParameters).notify(job)
                return (true, "ok in \(took()): \(message)", l.name, r, a)
            } catch { return (false, "\(error.description) (after \(took()))", l.name, r, a) }
        }
    }
}
