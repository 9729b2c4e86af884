import Foundation
import GRDB
import Hummingbird

/// What the API shows of a listener; the script only on the single-listener read, for review.
struct ListenerView: Codable, Sendable {
    var id, name, kind, secretsVia, status, author, approver: String
    var resourceTypes, additionalParameters, warnings: [String]
    var executable, sha256, preCommand, approvedBy, script: String?
    var timeoutSeconds: Double
    var revision: Int
    var approvedAt: Date?
    var createdAt, updatedAt: Date
}

extension Routes {
    func listeners(_ t: RouteTable) {
        t.add(.post, "/listeners", "Add a listener or custom plugin; it waits for another administrator's approval",
            body: ListenerBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageListeners)
            let b = try await req.decodeStrict(ListenerBody.self, limit: custody.config.maxBodyBytes)
            let hash = try b.pin()
            let view = try await custody.store.write { db -> ListenerView in
                if try ListenerRecord.filter(Column("name") == b.name).fetchCount(db) > 0 {
                    throw APIError.conflict("a listener named '\(b.name)' exists")
                }
                let now = custody.now()
                let l = try b.record(id: newID(), revision: 1, author: p, created: now, now: now, vault: custody.vault,
                    defaultTimeout: custody.config.listenerTimeoutSeconds, hash: hash, db)
                try l.insert(db)
                try custody.auditListener(l, "create_listener", p, ctx.remoteIP, db)
                return try custody.listenerView(l, script: false, db)
            }
            return try Reply.json(view, status: .created)
        }
        t.add(.get, "/listeners", "List listeners and custom plugins (administrators)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageListeners)
            let views = try await custody.store.read { db in
                try ListenerRecord.order(Column("name")).fetchAll(db).map { try custody.listenerView($0, script: false, db) }
            }
            return try Reply.json(views)
        }
        t.add(.get, "/listeners/:lid", "Show a listener with its script, for review") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .manageListeners)
            let view = try await custody.store.read { db in
                try custody.listenerView(try Self.listener(try ctx.param("lid"), db), script: true, db)
            }
            return try Reply.json(view)
        }
        t.add(.put, "/listeners/:lid", "Edit a listener; it goes back to pendingApproval", body: ListenerBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageListeners)
            let b = try await req.decodeStrict(ListenerBody.self, limit: custody.config.maxBodyBytes)
            let hash = try b.pin()
            let view = try await custody.store.write { db -> ListenerView in
                let old = try Self.listener(try ctx.param("lid"), db)
                if try ListenerRecord.filter(Column("name") == b.name && Column("id") != old.id).fetchCount(db) > 0 {
                    throw APIError.conflict("a listener named '\(b.name)' exists")
                }
                if b.name.caseInsensitiveCompare(old.name) != .orderedSame, let type = try Self.boundType(old, db) {
                    throw APIError.conflict("listener \(old.name) is the plugin of resource type \(type); it cannot be renamed")
                }
                let l = try b.record(id: old.id, revision: old.revision + 1, author: p, created: old.createdAt, now: custody.now(),
                    vault: custody.vault, defaultTimeout: custody.config.listenerTimeoutSeconds, hash: hash, db)
                try l.update(db)
                try custody.auditListener(l, "edit_listener", p, ctx.remoteIP, db)
                return try custody.listenerView(l, script: false, db)
            }
            return try Reply.json(view)
        }
        t.add(.post, "/listeners/:lid/approve",
            "Approve a listener revision (an administrator other than its author; ?revision=N: the one you reviewed)") { req, ctx in
            try await Self.transition(custody, ctx, to: .active, operation: "approve_listener", from: [.pendingApproval, .rejected],
                revision: try Self.revision(req))
        }
        t.add(.post, "/listeners/:lid/reject", "Reject a listener revision (an administrator other than its author)") { req, ctx in
            try await Self.transition(custody, ctx, to: .rejected, operation: "reject_listener", from: [.pendingApproval],
                revision: try Self.revision(req))
        }
        t.add(.post, "/listeners/:lid/disable", "Disable a listener; it stops running at once") { _, ctx in
            try await Self.transition(custody, ctx, to: .disabled, operation: "disable_listener", from: [.pendingApproval, .active, .rejected])
        }
        t.add(.post, "/listeners/:lid/enable", "Ask to run a disabled listener again; it needs a new approval") { _, ctx in
            try await Self.transition(custody, ctx, to: .pendingApproval, operation: "enable_listener", from: [.disabled])
        }
        t.add(.delete, "/listeners/:lid", "Delete a listener") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageListeners)
            try await custody.store.write { db in
                let l = try Self.listener(try ctx.param("lid"), db)
                if let type = try Self.boundType(l, db) {
                    throw APIError.conflict("listener \(l.name) is the plugin of resource type \(type); change that type first")
                }
                for run in try ListenerRunRecord.filter(Column("listenerId") == l.id).fetchAll(db) {
                    try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "listener_run", outcome: "failure",
                        message: "listener \(l.name) after \(run.trigger): dropped, the listener was deleted",
                        resourceId: run.resourceId, accountId: run.accountId), in: db)
                }
                try l.delete(db)
                try custody.auditListener(l, "delete_listener", p, ctx.remoteIP, db)
            }
            return Reply.noContent()
        }
    }

    /// By id first, then by name.
    static func listener(_ id: String, _ db: Database) throws -> ListenerRecord {
        guard let l = try ListenerRecord.fetchOne(db, key: id) ?? ListenerRecord.filter(Column("name") == id).fetchOne(db) else {
            throw APIError.notFound("listener")
        }
        return l
    }

    /// The resource type whose reset plugin this listener is, if any.
    static func boundType(_ l: ListenerRecord, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE plugin = ? COLLATE NOCASE", arguments: ["external:" + l.name])
    }

    static func revision(_ req: Request) throws -> Int? {
        guard let text = req.uri.queryParameters.get("revision") else { return nil }
        guard let n = Int(text), n > 0 else { throw APIError.badRequest("invalid_field", "revision must be a positive number") }
        return n
    }

    /// A status change, checked and audited in one transaction. Approve and reject are dual-controlled.
    static func transition(_ custody: Custody, _ ctx: AppContext, to status: ListenerRecord.Status, operation: String,
        from allowed: Set<ListenerRecord.Status>, revision: Int? = nil) async throws -> Response
    {
        let p = try ctx.caller()
        try custody.authorizer.check(p, .manageListeners)
        let view = try await custody.store.write { db -> ListenerView in
            var l = try listener(try ctx.param("lid"), db)
            if status == .active || status == .rejected {
                try custody.authorizer.checkApproval(p, author: l.authorId, approver: try UserRecord.fetchOne(db, key: p.userID))
            }
            guard allowed.contains(l.status) else {
                throw APIError.conflict("listener \(l.name) is \(l.status.rawValue); cannot \(operation.split(separator: "_")[0]) it")
            }
            if let revision, revision != l.revision {
                throw APIError.conflict("listener \(l.name) is at revision \(l.revision), not the revision \(revision) you reviewed")
            }
            l.status = status
            l.approvedById = status == .active ? p.userID : nil
            l.approvedAt = status == .active ? custody.now() : nil
            l.updatedAt = custody.now()
            try l.update(db)
            try custody.auditListener(l, operation, p, ctx.remoteIP, db)
            return try custody.listenerView(l, script: false, db)
        }
        return try Reply.json(view)
    }
}
