import Foundation
import GRDB
import ResetPlugins
import Shared

/// Listener runs: queued in the transaction that commits a change (so a crash cannot lose one),
/// run off the reset path by `ListenerRunner`, their result audited, never touching the change.
extension Custody {
    struct ListenerSecrets: Codable {
        var old: Secret?
        var new: Secret
    }

    /// Queues a run of every approved listener for this resource's type; returns how many.
    @discardableResult
    func queueListeners(_ r: ResourceRecord, _ a: AccountRecord, old: Secret?, new: Secret, trigger: String, _ db: Database) throws -> Int {
        let listeners = try ListenerRecord.filter(Column("status") == ListenerRecord.Status.active.rawValue).fetchAll(db)
            .filter { $0.applies(to: r.type) }
        guard !listeners.isEmpty else { return 0 }
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealKey] = true
        let plain = try encoder.encode(ListenerSecrets(old: old, new: new))
        for l in listeners {
            let id = newID()
            let sealed = try vault.seal(plain, identity: Vault.listenerRunIdentity(id: id))
            try ListenerRunRecord(id: id, listenerId: l.id, revision: l.revision, resourceId: r.id, accountId: a.id, trigger: trigger,
                sealedSecrets: sealed, state: .queued, createdAt: now()).insert(db)
        }
        db.afterNextTransaction { _ in listenerSignal.poke() }
        return listeners.count
    }

    func claimListenerRuns(limit: Int) async throws -> [ListenerRunRecord] {
        guard limit > 0 else { return [] }
        let queued = ListenerRunRecord.filter(Column("state") == ListenerRunRecord.State.queued.rawValue)
        guard try await store.read({ db in try queued.fetchCount(db) }) > 0 else { return [] }
        return try await store.write { db in
            var runs = try queued.order(Column("createdAt")).limit(limit).fetchAll(db)
            for i in runs.indices {
                runs[i].state = .running
                try runs[i].update(db)
            }
            return runs
        }
    }

    /// At start: a run a crash interrupted is audited and dropped, not repeated (a listener may
    /// not be safe to run twice). Queued runs stay queued.
    func abandonInterruptedListenerRuns() async throws -> Int {
        try await store.write { db in
            let runs = try ListenerRunRecord.filter(Column("state") == ListenerRunRecord.State.running.rawValue).fetchAll(db)
            for run in runs {
                let name = try String.fetchOne(db, sql: "SELECT name FROM listeners WHERE id = ?", arguments: [run.listenerId]) ?? run.listenerId
                try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "listener_run", outcome: "failure",
                    message: "listener \(name) after \(run.trigger): interrupted by a server stop; not run again",
                    resourceId: run.resourceId, accountId: run.accountId), in: db)
                try run.delete(db)
            }
            return runs.count
        }
    }

    /// Runs one listener and audits its result. Errors never reach the change that caused it.
    func runListener(_ run: ListenerRunRecord) async {
        let outcome: (ok: Bool, message: String, name: String, r: ResourceRecord?, a: AccountRecord?)
        do {
            outcome = try await executeListener(run)
        } catch {
            outcome = (false, "could not run: \(Self.describe(error))", run.listenerId, nil, nil)
        }
        do {
            try await store.write { db in
                try AuditLog.append(AuditEvent(user: "system", ip: "server", operation: "listener_run", outcome: outcome.ok ? "success" : "failure",
                    resource: outcome.r?.name, account: outcome.a?.loginName,
                    message: "listener \(outcome.name) after \(run.trigger): \(outcome.message)", resourceId: run.resourceId,
                    accountId: run.accountId), in: db)
                _ = try run.delete(db)
            }
        } catch {
            logger.error("a listener result could not be recorded", metadata: ["run": "\(run.id)", "error": "\(type(of: error))"])
        }
    }
}
