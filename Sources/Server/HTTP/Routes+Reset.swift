import Foundation
import GRDB
import Hummingbird
import Shared

extension Routes {
    func reset(_ t: RouteTable) {
        t.add(.put, "/resources/:rid/reset-config", "Set how Custody reaches the target (manage)", body: ResetConfig.self) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(ResetConfig.self, limit: custody.config.maxBodyBytes)
            let saved = try await custody.store.write { db -> ResetConfig in
                var b = body
                let (r, _) = try Catalog.resource(try ctx.param("rid"), p, .updateResource, custody.authorizer, db)
                // Agent mode hands the resource's passwords to whichever agent serves it: an administrator's call.
                let before = try ResetConfig.stored(for: r.id, db)?.mode
                if (b.mode == .agent) != (before == .agent) { try custody.authorizer.check(p, .manageSettings) }
                for ref in [b.loginAccount, b.rootAccount, b.enableAccount].compactMap({ $0 }) {
                    _ = try Catalog.accountRef(ref, on: r, db)
                }
                // An unchanged config keeps the host key learned on first use.
                if b.hostKey == nil, let old = try String.fetchOne(db, sql: "SELECT json FROM resetConfigs WHERE resourceId = ?", arguments: [r.id]),
                    let prev = try? JSONDecoder.api.decode(ResetConfig.self, from: Data(old.utf8)), prev.port == b.port, prev.protocol == b.protocol
                {
                    b.hostKey = prev.hostKey
                }
                let json = String(decoding: try JSONEncoder.api.encode(b), as: UTF8.self)
                try db.execute(sql: "INSERT INTO resetConfigs(resourceId, json) VALUES (?, ?) ON CONFLICT(resourceId) DO UPDATE SET json = excluded.json",
                    arguments: [r.id, json])
                let warned = b.transportWarnings.map { "; warning: " + $0 }.joined()
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "set_reset_config", resource: r.name,
                    message: "mode \(b.mode.rawValue)" + warned, resourceId: r.id), in: db)
                return b
            }
            // The saved config, plus `warnings` when it sends passwords in clear or trusts any certificate.
            var out = try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(saved)) as? [String: Any] ?? [:]
            out["warnings"] = saved.transportWarnings
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers,
                body: .init(byteBuffer: ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: out, options: [.sortedKeys]))))
        }
        t.add(.get, "/resources/:rid/reset-config", "Show the reset configuration") { _, ctx in
            let p = try ctx.caller()
            let json = try await custody.store.read { db -> String in
                let (r, _) = try Catalog.resource(try ctx.param("rid"), p, .readResource, custody.authorizer, db)
                guard let json = try String.fetchOne(db, sql: "SELECT json FROM resetConfigs WHERE resourceId = ?", arguments: [r.id]) else {
                    throw APIError.notFound("reset configuration")
                }
                return json
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
        }
        t.add(.post, "/resources/:rid/accounts/:aid/verify", "Check the stored password on the target", body: nil) { _, ctx in
            let task = try await custody.queueVerify(rid: try ctx.param("rid"), aid: try ctx.param("aid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return try Reply.json(["taskId": task.id], status: .accepted)
        }
        t.add(.get, "/tasks/:tid", "A task (?wait=N holds the answer up to N ≤ 60 seconds until it ends)") { req, ctx in
            let p = try ctx.caller()
            let tid = try ctx.param("tid")
            var wait = 0.0
            if let w = req.uri.queryParameters.get("wait") {
                guard let n = Double(w), (0...60).contains(n) else { throw APIError.badRequest("invalid_parameter", "wait must be 0...60") }
                wait = n
            }
            let deadline = Date().addingTimeInterval(wait)
            // Woken by a committed change to the tasks, not by polling; the read follows the generation seen.
            while true {
                let seen = custody.taskChanged.current
                let task = try await custody.store.read { db in try custody.task(tid, visibleTo: p, db) }
                let left = deadline.timeIntervalSinceNow
                if task.isFinished || left <= 0 { return try Reply.json(TaskView(task)) }
                await custody.taskChanged.wait(after: seen, timeout: .milliseconds(Int64(min(left, 60) * 1000)))
                try Task.checkCancellation()
            }
        }
        t.add(.post, "/tasks/:tid/abandon", "End a reset stuck in reconcile; its candidate stays retrievable (administrators)",
            body: AbandonBody.self) { req, ctx in
            let b = try await req.decodeStrict(AbandonBody.self, limit: custody.config.maxBodyBytes)
            let task = try await custody.abandonReset(try ctx.param("tid"), by: try ctx.caller(), reason: b.reason, ip: ctx.remoteIP)
            return try Reply.json(TaskView(task))
        }
        t.add(.get, "/tasks", "Your tasks, newest first (?state=...; ?mine=false adds the tasks of every account you can see)") { req, ctx in
            let p = try ctx.caller()
            let params = req.uri.queryParameters
            let state = params.get("state")
            if let state, TaskRecord.State(rawValue: state) == nil { throw APIError.badRequest("invalid_parameter", "unknown state \(state)") }
            let mineParam: String = params.get("mine").map { String($0) } ?? "true"
            guard let mine = ["true": true, "false": false][mineParam] else {
                throw APIError.badRequest("invalid_parameter", "mine must be true or false")
            }
            let tasks = try await custody.store.read { db in
                var q = TaskRecord.all()
                if mine {
                    q = q.filter(Column("requestedById") == p.userID)
                } else {
                    let scope = try ListScope.of(p, db)
                    if !scope.everything { q = q.filter(Column("requestedById") == p.userID || scope.accounts.contains(Column("accountId"))) }
                }
                if let state { q = q.filter(Column("state") == state) }
                return try q.order(Column("createdAt").desc).limit(200).fetchAll(db)
            }
            return try Reply.json(tasks.map(TaskView.init))
        }
    }
}

extension Custody {
    /// A task its requester, or anyone who can read its account, may see.
    func task(_ id: String, visibleTo p: Principal, _ db: Database) throws -> TaskRecord {
        guard let t = try TaskRecord.fetchOne(db, key: id) else { throw APIError.notFound("task") }
        if t.requestedById != p.userID { _ = try Catalog.account(t.resourceId, t.accountId, p, .readAccount, authorizer, db) }
        return t
    }
}
