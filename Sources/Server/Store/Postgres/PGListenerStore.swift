import Foundation

/// `ListenerStore` on PostgreSQL: tables `listeners` and `listenerRuns`.
struct PGListenerStore: ListenerStore {
    let db: PGDatabase
    let log: PGAuditLog
    let notices: PGNotices
    /// The node that claims runs here: at its start it abandons only its own interrupted runs,
    /// and those of nodes no longer alive.
    let node: String

    func listeners() async throws -> [ListenerFacts] {
        try await db.read { c in
            var out: [ListenerFacts] = []
            for l in try await c.all(ListenerRecord.self, "SELECT * FROM listeners ORDER BY name") { out.append(try await Self.facts(l, c)) }
            return out
        }
    }

    func listener(_ idOrName: String) async throws -> ListenerFacts? {
        try await db.read { c in
            guard let l = try await Self.find(idOrName, c) else { return nil }
            return try await Self.facts(l, c)
        }
    }

    func create(name: String, approverRef: String, make: @Sendable (UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts
    {
        try await db.write { c in
            if try await c.scalar(Int.self, "SELECT 1 FROM listeners WHERE name = ?", [name]) != nil {
                throw DomainError(.conflict, "conflict", "a listener named '\(name)' exists")
            }
            let l = try make(try await Self.user(approverRef, c))
            try await c.insert(l, into: "listeners")
            return try await apply(l, effects, c)
        }
    }

    func update(_ idOrName: String, name: String, approverRef: String, make: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    {
        try await db.write { c in
            guard let old = try await Self.find(idOrName, c) else { return nil }
            if try await c.scalar(Int.self, "SELECT 1 FROM listeners WHERE name = ? AND id != ?", [name, old.id]) != nil {
                throw DomainError(.conflict, "conflict", "a listener named '\(name)' exists")
            }
            if name.caseInsensitiveCompare(old.name) != .orderedSame, let type = try await Self.boundType(old, c) {
                throw DomainError(.conflict, "conflict", "listener \(old.name) is the plugin of resource type \(type); it cannot be renamed")
            }
            let l = try make(old, try await Self.user(approverRef, c))
            try await c.update(l, in: "listeners")
            return try await apply(l, effects, c)
        }
    }

    func transition(_ idOrName: String, by userID: String, decide: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    {
        try await db.write { c in
            guard let old = try await Self.find(idOrName, c) else { return nil }
            let l = try decide(old, try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [userID]))
            try await c.update(l, in: "listeners")
            return try await apply(l, effects, c)
        }
    }

    func delete(_ idOrName: String, dropped: @Sendable (ListenerRecord, ListenerRunRecord) -> AuditEvent,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> Bool
    {
        try await db.write { c in
            guard let l = try await Self.find(idOrName, c) else { return false }
            if let type = try await Self.boundType(l, c) {
                throw DomainError(.conflict, "conflict", "listener \(l.name) is the plugin of resource type \(type); change that type first")
            }
            for run in try await c.all(ListenerRunRecord.self, "SELECT * FROM listenerRuns WHERE listenerId = ?", [l.id]) {
                try await log.append(dropped(l, run), c)
            }
            let facts = try await Self.facts(l, c)
            try await c.execute("DELETE FROM listeners WHERE id = ?", [l.id])
            let e = effects(facts)
            for a in e.audit { try await log.append(a, c) }
            try await notices.queue(e.notices, c)
            return true
        }
    }

    private func apply(_ l: ListenerRecord, _ effects: @Sendable (ListenerFacts) -> ListenerEffects, _ c: PGConnection) async throws -> ListenerFacts {
        let facts = try await Self.facts(l, c)
        let e = effects(facts)
        for a in e.audit { try await log.append(a, c) }
        try await notices.queue(e.notices, c)
        return facts
    }

    /// By id first, then by name.
    static func find(_ idOrName: String, _ c: PGConnection) async throws -> ListenerRecord? {
        if let l = try await c.one(ListenerRecord.self, "SELECT * FROM listeners WHERE id = ?", [idOrName]) { return l }
        return try await c.all(ListenerRecord.self, "SELECT * FROM listeners WHERE name = ?", [idOrName]).first { PGCatalog.sameName($0.name, idOrName) }
    }

    static func user(_ idOrName: String, _ c: PGConnection) async throws -> UserRecord? {
        if let u = try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [idOrName]) { return u }
        return try await PGCatalog.user(named: idOrName, c)
    }

    /// The resource type whose reset plugin this listener is, if any.
    static func boundType(_ l: ListenerRecord, _ c: PGConnection) async throws -> String? {
        try await c.scalar(String.self, "SELECT name FROM resourceTypes WHERE plugin = ? COLLATE nocase", ["external:" + l.name])
    }

    static func facts(_ l: ListenerRecord, _ c: PGConnection) async throws -> ListenerFacts {
        func name(_ id: String?) async throws -> String? {
            guard let id else { return nil }
            return try await c.scalar(String.self, "SELECT username FROM users WHERE id = ?", [id]) ?? id
        }
        var unknown: [String] = []
        for t in l.resourceTypes where try await c.scalar(String.self, "SELECT name FROM resourceTypes WHERE name = ?", [t]) == nil { unknown.append(t) }
        return ListenerFacts(record: l, author: try await name(l.authorId) ?? "", approver: try await name(l.approverId) ?? "",
            approvedBy: try await name(l.approvedById), unknownTypes: unknown)
    }
}

/// Listener runs: claimed by `ListenerRunner`, their result audited, then removed. Claims skip rows
/// another node has locked, so each run is taken by one node.
extension PGListenerStore {
    func claimRuns(limit: Int) async throws -> [ListenerRunRecord] {
        guard limit > 0 else { return [] }
        guard try await db.read({ c in try await c.scalar(Int.self, "SELECT 1 FROM listenerRuns WHERE state = 'queued' LIMIT 1") }) != nil else { return [] }
        return try await db.write { c in
            var runs = try await c.all(ListenerRunRecord.self,
                "SELECT * FROM listenerRuns WHERE state = 'queued' ORDER BY createdAt LIMIT ? FOR UPDATE SKIP LOCKED", [limit])
            for i in runs.indices {
                runs[i].state = .running
                try await c.update(runs[i], in: "listenerRuns")
                try await c.execute("UPDATE listenerRuns SET claimedBy = ? WHERE id = ?", [node, runs[i].id])
            }
            return runs
        }
    }

    func abandonInterrupted(audit: @Sendable (ListenerRunRecord, String) -> AuditEvent) async throws -> Int {
        try await db.write { c in
            let runs = try await c.all(ListenerRunRecord.self, """
                SELECT * FROM listenerRuns WHERE state = 'running' AND (claimedBy IS NULL OR claimedBy = ?
                  OR claimedBy NOT IN (SELECT id FROM nodes WHERE heartbeatAt > \(PGTaskStore.dbNow) - 120))
                """, [node])
            for run in runs {
                let name = try await c.scalar(String.self, "SELECT name FROM listeners WHERE id = ?", [run.listenerId]) ?? run.listenerId
                try await log.append(audit(run, name), c)
                try await c.execute("DELETE FROM listenerRuns WHERE id = ?", [run.id])
            }
            return runs.count
        }
    }

    func runFacts(_ run: ListenerRunRecord) async throws -> ListenerRunFacts {
        try await db.read { c in
            ListenerRunFacts(listener: try await c.one(ListenerRecord.self, "SELECT * FROM listeners WHERE id = ?", [run.listenerId]),
                resource: try await PGQueries.resource(run.resourceId, c), account: try await PGQueries.account(run.accountId, c),
                config: try await PGQueries.resetConfig(for: run.resourceId, c))
        }
    }

    func finish(_ run: ListenerRunRecord, audit: AuditEvent) async throws {
        try await db.write { c in
            try await log.append(audit, c)
            try await c.execute("DELETE FROM listenerRuns WHERE id = ?", [run.id])
        }
    }
}
