import Foundation

/// Listeners and custom plugins: added and edited by administrators, run only once another
/// administrator approves the revision (dual control). Authorization inside.
struct ListenerService: Sendable {
    let store: any ListenerStore
    let authorizer: Authorizer
    let vault: Vault
    let defaultTimeout: Double
    let now: @Sendable () -> Date

    func list(by p: Principal) async throws -> [ListenerView] {
        try authorizer.check(p, .manageListeners)
        return try await store.listeners().map { try view($0, script: false) }
    }

    /// One listener with its script, for review.
    func show(_ idOrName: String, by p: Principal) async throws -> ListenerView {
        try authorizer.check(p, .manageListeners)
        guard let l = try await store.listener(idOrName) else { throw DomainError.notFound("listener") }
        return try view(l, script: true)
    }

    func create(_ b: ListenerBody, by p: Principal, ip: String) async throws -> ListenerView {
        try authorizer.check(p, .manageListeners)
        let hash = try b.pin()
        let at = now()
        let facts = try await store.create(name: b.name, approverRef: b.approver,
            make: { [vault, defaultTimeout] approver in
                try b.record(id: newID(), revision: 1, author: p, created: at, now: at, vault: vault, defaultTimeout: defaultTimeout, hash: hash,
                    approver: approver)
            },
            effects: { Self.effects($0, "create_listener", p, ip) })
        return try view(facts, script: false)
    }

    func update(_ idOrName: String, _ b: ListenerBody, by p: Principal, ip: String) async throws -> ListenerView {
        try authorizer.check(p, .manageListeners)
        let hash = try b.pin()
        let at = now()
        let facts = try await store.update(idOrName, name: b.name, approverRef: b.approver,
            make: { [vault, defaultTimeout] old, approver in
                try b.record(id: old.id, revision: old.revision + 1, author: p, created: old.createdAt, now: at, vault: vault,
                    defaultTimeout: defaultTimeout, hash: hash, approver: approver)
            },
            effects: { Self.effects($0, "edit_listener", p, ip) })
        guard let facts else { throw DomainError.notFound("listener") }
        return try view(facts, script: false)
    }

    /// A status change. Approve and reject are dual-controlled; `revision` names the one reviewed.
    func transition(_ idOrName: String, to status: ListenerRecord.Status, operation: String, from allowed: Set<ListenerRecord.Status>,
        revision: Int? = nil, by p: Principal, ip: String) async throws -> ListenerView
    {
        try authorizer.check(p, .manageListeners)
        let at = now()
        let facts = try await store.transition(idOrName, by: p.userID,
            decide: { [authorizer] stored, me in
                var l = stored
                if status == .active || status == .rejected { try authorizer.checkApproval(p, author: l.authorId, approver: me) }
                guard allowed.contains(l.status) else {
                    throw DomainError(.conflict, "conflict", "listener \(l.name) is \(l.status.rawValue); cannot \(operation.split(separator: "_")[0]) it")
                }
                if let revision, revision != l.revision {
                    throw DomainError(.conflict, "conflict", "listener \(l.name) is at revision \(l.revision), not the revision \(revision) you reviewed")
                }
                l.status = status
                l.approvedById = status == .active ? p.userID : nil
                l.approvedAt = status == .active ? at : nil
                l.updatedAt = at
                return l
            },
            effects: { Self.effects($0, operation, p, ip) })
        guard let facts else { throw DomainError.notFound("listener") }
        return try view(facts, script: false)
    }

    func delete(_ idOrName: String, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageListeners)
        let deleted = try await store.delete(idOrName,
            dropped: { l, run in
                AuditEvent(user: p.username, ip: ip, operation: "listener_run", outcome: "failure",
                    message: "listener \(l.name) after \(run.trigger): dropped, the listener was deleted", resourceId: run.resourceId,
                    accountId: run.accountId)
            },
            effects: { Self.effects($0, "delete_listener", p, ip) })
        guard deleted else { throw DomainError.notFound("listener") }
    }

    /// Every listener event is audited; a revision awaiting approval also notifies its approver.
    static func effects(_ f: ListenerFacts, _ operation: String, _ p: Principal, _ ip: String) -> ListenerEffects {
        let l = f.record
        let source = l.executable.map { "executable \($0) sha256 \(l.sha256 ?? "")" } ?? "script"
        var e = ListenerEffects(audit: [AuditEvent(user: p.username, ip: ip, operation: operation,
            message: "listener \(l.name) (\(l.kind.rawValue), revision \(l.revision), \(source), secretsVia \(l.secretsVia.rawValue)): \(l.status.rawValue)")])
        guard l.status == .pendingApproval else { return e }
        e.audit.append(AuditEvent(user: p.username, ip: ip, operation: "listener_approval_requested",
            message: "listener \(l.name) revision \(l.revision) awaits approval by \(f.approver)"))
        var n = NotificationFacts(.listenerPendingApproval)
        (n.user, n.ip, n.listener, n.status) = (p.username, ip, l.name, "pending")
        n.message = "Revision \(l.revision) (\(l.kind.rawValue), \(source)) awaits approval by \(f.approver)."
        e.notices = [Notice(n, users: [l.approverId])]
        return e
    }

    func view(_ f: ListenerFacts, script: Bool) throws -> ListenerView {
        let l = f.record
        let body = try script ? l.sealedScript.map {
            String(decoding: try vault.open($0, identity: Vault.listenerIdentity(id: l.id, revision: l.revision)), as: UTF8.self)
        } : nil
        var warnings: [String] = []
        if l.secretsVia == .argv {
            warnings.append("secretsVia argv passes the old and new password as arguments: any local user can read them in /proc/<pid>/cmdline while the listener runs")
        }
        for t in f.unknownTypes { warnings.append("resource type '\(t)' does not exist (yet); the listener runs for it once it does") }
        return ListenerView(id: l.id, name: l.name, kind: l.kind.rawValue, secretsVia: l.secretsVia.rawValue, status: l.status.rawValue,
            author: f.author, approver: f.approver, resourceTypes: l.resourceTypes, additionalParameters: l.additionalParameters,
            warnings: warnings, executable: l.executable, sha256: l.sha256, preCommand: l.preCommand, approvedBy: f.approvedBy, script: body,
            timeoutSeconds: l.timeoutSeconds, revision: l.revision, approvedAt: l.approvedAt, createdAt: l.createdAt, updatedAt: l.updatedAt)
    }
}
