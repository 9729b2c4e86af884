import Foundation
import GRDB
import ResetPlugins
import Shared

extension Custody {
    typealias ListenerOutcome = (ok: Bool, message: String, name: String, r: ResourceRecord?, a: AccountRecord?)

    func executeListener(_ run: ListenerRunRecord) async throws -> ListenerOutcome {
        let (l, r, a, sealedConfig) = try await store.read { db in
            (try ListenerRecord.fetchOne(db, key: run.listenerId), try ResourceRecord.fetchOne(db, key: run.resourceId),
             try AccountRecord.fetchOne(db, key: run.accountId),
             try String.fetchOne(db, sql: "SELECT json FROM resetConfigs WHERE resourceId = ?", arguments: [run.resourceId]))
        }
        guard let l else { return (false, "skipped: the listener was deleted before it ran", run.listenerId, r, a) }
        guard l.status == .active, l.revision == run.revision else {
            let why = l.status == .active ? "edited and re-approved" : "set to \(l.status.rawValue)"
            return (false, "skipped: the listener was \(why) before it ran", l.name, r, a)
        }
        guard let r, let a else { return (false, "skipped: the account was deleted before it ran", l.name, r, a) }
        let plain = try vault.open(run.sealedSecrets, identity: Vault.listenerRunIdentity(id: run.id))
        let secrets = try JSONDecoder().decode(ListenerSecrets.self, from: plain)
        let config = sealedConfig.flatMap { try? JSONDecoder.api.decode(ResetConfig.self, from: Data($0.utf8)) }
        let settings = config?.settings ?? ResetSettings()
        let (resource, account) = Self.properties(r, a, port: config == nil ? nil : settings.port)
        let job = ResetJob(operation: .notify, resource: resource, account: account, currentPassword: secrets.old,
            newPassword: secrets.new, settings: settings)
        let program = try listenerProgram(l)
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

    /// The program of an approved listener: its sealed script, or its executable, checked
    /// against the approved SHA-256 when it runs (never read inside a transaction).
    func listenerProgram(_ l: ListenerRecord) throws -> ExternalProgram {
        let source: ExternalProgram.Source
        var name = l.name
        if let sealed = l.sealedScript {
            source = .bytes(Array(try vault.open(sealed, identity: Vault.listenerIdentity(id: l.id, revision: l.revision))))
        } else if let path = l.executable, let sha = l.sha256 {
            source = .file(path: path, sha256: sha)
            name = URL(fileURLWithPath: path).lastPathComponent
        } else {
            throw DomainError.invalid("listener_unavailable", "listener \(l.name) has no program")
        }
        return ExternalProgram(name: name, source: source, preCommand: ExternalProgram.split(l.preCommand),
            workRoot: config.resolvedListenerWorkDir, timeout: l.timeoutSeconds, outputLimit: config.listenerOutputBytes)
    }

    /// The reset plugin of a resource type bound to `external:<name>`: an approved custom listener.
    func externalPlugin(named name: String, _ db: Database) throws -> ExternalPlugin {
        guard let l = try ListenerRecord.filter(Column("name") == name).fetchOne(db), l.kind == .custom else {
            throw DomainError.invalid("reset_unsupported", "custom plugin \(name) does not exist")
        }
        guard l.status == .active else {
            throw DomainError.invalid("reset_unsupported", "custom plugin \(name) is \(l.status.rawValue); it runs once approved")
        }
        return ExternalPlugin(id: "external:\(l.name)", program: try listenerProgram(l), arguments: l.additionalParameters,
            resourceTypes: l.resourceTypes)
    }
}
