import Foundation
import GRDB

extension Custody {
    func listenerView(_ l: ListenerRecord, script: Bool, _ db: Database) throws -> ListenerView {
        func name(_ id: String?) throws -> String? {
            guard let id else { return nil }
            return try String.fetchOne(db, sql: "SELECT username FROM users WHERE id = ?", arguments: [id]) ?? id
        }
        let body = try script ? l.sealedScript.map {
            String(decoding: try vault.open($0, identity: Vault.listenerIdentity(id: l.id, revision: l.revision)), as: UTF8.self)
        } : nil
        return ListenerView(id: l.id, name: l.name, kind: l.kind.rawValue, secretsVia: l.secretsVia.rawValue, status: l.status.rawValue,
            author: try name(l.authorId) ?? "", approver: try name(l.approverId) ?? "", resourceTypes: l.resourceTypes,
            additionalParameters: l.additionalParameters,
            warnings: try warnings(l, db),
            executable: l.executable, sha256: l.sha256, preCommand: l.preCommand, approvedBy: try name(l.approvedById), script: body,
            timeoutSeconds: l.timeoutSeconds, revision: l.revision, approvedAt: l.approvedAt, createdAt: l.createdAt, updatedAt: l.updatedAt)
    }

    /// What an administrator should know before relying on this listener.
    func warnings(_ l: ListenerRecord, _ db: Database) throws -> [String] {
        var out: [String] = []
        if l.secretsVia == .argv {
            out.append("secretsVia argv passes the old and new password as arguments: any local user can read them in /proc/<pid>/cmdline while the listener runs")
        }
        for t in l.resourceTypes where try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE name = ?", arguments: [t]) == nil {
            out.append("resource type '\(t)' does not exist (yet); the listener runs for it once it does")
        }
        return out
    }

    /// Every listener event is audited; a revision awaiting approval also notifies its approver.
    func auditListener(_ l: ListenerRecord, _ operation: String, _ p: Principal, _ ip: String, _ db: Database) throws {
        let source = l.executable.map { "executable \($0) sha256 \(l.sha256 ?? "")" } ?? "script"
        try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: operation,
            message: "listener \(l.name) (\(l.kind.rawValue), revision \(l.revision), \(source), secretsVia \(l.secretsVia.rawValue)): \(l.status.rawValue)"),
            in: db)
        if l.status == .pendingApproval {
            let approver = try String.fetchOne(db, sql: "SELECT username FROM users WHERE id = ?", arguments: [l.approverId]) ?? l.approverId
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "listener_approval_requested",
                message: "listener \(l.name) revision \(l.revision) awaits approval by \(approver)"), in: db)
            var f = NotificationFacts(.listenerPendingApproval)
            f.user = p.username
            f.ip = ip
            f.listener = l.name
            f.status = "pending"
            f.message = "Revision \(l.revision) (\(l.kind.rawValue), \(source)) awaits approval by \(approver)."
            try notify(f, users: [l.approverId], db)
        }
    }
}
