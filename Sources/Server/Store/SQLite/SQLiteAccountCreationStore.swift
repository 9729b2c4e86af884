import Foundation
import GRDB
import Shared

/// `AccountCreationStore` on SQLite: the account in `accounts`, its first password through `SecretStore`.
struct SQLiteAccountCreationStore: AccountCreationStore {
    let db: DatabasePool
    let secrets: SecretStore

    func create(in resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        make: @Sendable (ResourceRecord) throws -> (AccountRecord, Secret?), audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent)
        async throws -> AccountRecord?
    {
        try await db.write { db in
            guard let r = try ResourceRecord.fetchOne(db, key: resourceID), let have = try Access.onResource(r, p, db) else { return nil }
            try authorize(have)
            let (a, password) = try make(r)
            let event = audit(r, a)
            try insert(a, password, in: r, by: p.username, ip: event.ip, db)
            try AuditLog.append(event, in: db)
            return a
        }
    }

    func importAccount(resourceName: String, by p: Principal, newResource: @Sendable () -> ResourceRecord,
        make: @Sendable (ResourceRecord, PasswordPolicy) throws -> (AccountRecord, Secret),
        audit: @Sendable (ResourceRecord, AccountRecord, Bool) -> AuditEvent) async throws -> Bool
    {
        try await db.write { db in
            let r: ResourceRecord
            let created: Bool
            if let existing = try ResourceRecord.filter(Column("name") == resourceName).fetchOne(db) {
                guard let have = try Access.onResource(existing, p, db), have >= .manage else {
                    throw DomainError(.forbidden, "forbidden", "resource '\(resourceName)' exists and you do not manage it")
                }
                (r, created) = (existing, false)
            } else {
                let rec = newResource()
                try Catalog.requireType(rec.type, db)
                try rec.insert(db)
                (r, created) = (rec, true)
            }
            let (a, password) = try make(r, try Catalog.effectivePolicy(for: r, db))
            let event = audit(r, a, created)
            try insert(a, password, in: r, by: p.username, ip: event.ip, db)
            try AuditLog.append(event, in: db)
            return created
        }
    }

    private func insert(_ a: AccountRecord, _ password: Secret?, in r: ResourceRecord, by user: String, ip: String, _ db: Database) throws {
        if try AccountRecord.filter(Column("resourceId") == r.id && Column("loginName") == a.loginName).fetchCount(db) > 0 {
            throw DomainError(.conflict, "conflict", "resource '\(r.name)' already has an account '\(a.loginName)'")
        }
        try a.insert(db)
        if let password { try secrets.setCurrent(password, account: a.id, by: user, at: a.createdAt, ip: ip, db) }
    }
}
