import Foundation
import GRDB

/// `ListenerStore` on SQLite: tables `listeners` and `listenerRuns`.
struct SQLiteListenerStore: ListenerStore {
    let db: DatabasePool
    let notices: SQLiteNotices

    func listeners() async throws -> [ListenerFacts] {
        try await db.read { db in try ListenerRecord.order(Column("name")).fetchAll(db).map { try Self.facts($0, db) } }
    }

    func listener(_ idOrName: String) async throws -> ListenerFacts? {
        try await db.read { db in try Self.find(idOrName, db).map { try Self.facts($0, db) } }
    }

    func create(name: String, approverRef: String, make: @Sendable (UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts
    {
        try await db.write { db in
            if try ListenerRecord.filter(Column("name") == name).fetchCount(db) > 0 {
                throw DomainError(.conflict, "conflict", "a listener named '\(name)' exists")
            }
            let l = try make(try Self.user(approverRef, db))
            try l.insert(db)
            return try apply(l, effects, db)
        }
    }

    func update(_ idOrName: String, name: String, approverRef: String, make: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    {
        try await db.write { db in
            guard let old = try Self.find(idOrName, db) else { return nil }
            if try ListenerRecord.filter(Column("name") == name && Column("id") != old.id).fetchCount(db) > 0 {
                throw DomainError(.conflict, "conflict", "a listener named '\(name)' exists")
            }
            if name.caseInsensitiveCompare(old.name) != .orderedSame, let type = try Self.boundType(old, db) {
                throw DomainError(.conflict, "conflict", "listener \(old.name) is the plugin of resource type \(type); it cannot be renamed")
            }
            let l = try make(old, try Self.user(approverRef, db))
            try l.update(db)
            return try apply(l, effects, db)
        }
    }

    func transition(_ idOrName: String, by userID: String, decide: @Sendable (ListenerRecord, UserRecord?) throws -> ListenerRecord,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> ListenerFacts?
    {
        try await db.write { db in
            guard let old = try Self.find(idOrName, db) else { return nil }
            let l = try decide(old, try UserRecord.fetchOne(db, key: userID))
            try l.update(db)
            return try apply(l, effects, db)
        }
    }

    func delete(_ idOrName: String, dropped: @Sendable (ListenerRecord, ListenerRunRecord) -> AuditEvent,
        effects: @Sendable (ListenerFacts) -> ListenerEffects) async throws -> Bool
    {
        try await db.write { db in
            guard let l = try Self.find(idOrName, db) else { return false }
            if let type = try Self.boundType(l, db) {
                throw DomainError(.conflict, "conflict", "listener \(l.name) is the plugin of resource type \(type); change that type first")
            }
            for run in try ListenerRunRecord.filter(Column("listenerId") == l.id).fetchAll(db) { try AuditLog.append(dropped(l, run), in: db) }
            let facts = try Self.facts(l, db)
            try l.delete(db)
            let e = effects(facts)
            for a in e.audit { try AuditLog.append(a, in: db) }
            try notices.queue(e.notices, db)
            return true
        }
    }

    private func apply(_ l: ListenerRecord, _ effects: @Sendable (ListenerFacts) -> ListenerEffects, _ db: Database) throws -> ListenerFacts {
        let facts = try Self.facts(l, db)
        let e = effects(facts)
        for a in e.audit { try AuditLog.append(a, in: db) }
        try notices.queue(e.notices, db)
        return facts
    }

    /// By id first, then by name.
    static func find(_ idOrName: String, _ db: Database) throws -> ListenerRecord? {
        try ListenerRecord.fetchOne(db, key: idOrName) ?? ListenerRecord.filter(Column("name") == idOrName).fetchOne(db)
    }

    static func user(_ idOrName: String, _ db: Database) throws -> UserRecord? {
        try UserRecord.filter(Column("id") == idOrName || Column("username") == idOrName).fetchOne(db)
    }

    /// The resource type whose reset plugin this listener is, if any.
    static func boundType(_ l: ListenerRecord, _ db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE plugin = ? COLLATE NOCASE", arguments: ["external:" + l.name])
    }

    static func facts(_ l: ListenerRecord, _ db: Database) throws -> ListenerFacts {
        func name(_ id: String?) throws -> String? {
            guard let id else { return nil }
            return try String.fetchOne(db, sql: "SELECT username FROM users WHERE id = ?", arguments: [id]) ?? id
        }
        let unknown = try l.resourceTypes.filter { try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE name = ?", arguments: [$0]) == nil }
        return ListenerFacts(record: l, author: try name(l.authorId) ?? "", approver: try name(l.approverId) ?? "",
            approvedBy: try name(l.approvedById), unknownTypes: unknown)
    }
}
