import Foundation
import Shared

/// `AccountCreationStore` on PostgreSQL: the account in `accounts`, its first password through `PGSecretStore`.
struct PGAccountCreationStore: AccountCreationStore {
    let db: PGDatabase
    let log: PGAuditLog
    let secrets: PGSecretStore

    func create(in resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void,
        make: @Sendable (ResourceRecord) throws -> (AccountRecord, Secret?), audit: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent)
        async throws -> AccountRecord?
    {
        try await db.write { c in
            guard let r = try await PGQueries.resource(resourceID, c), let have = try await PGAccess.onResource(r, p, c) else { return nil }
            try authorize(have)
            let (a, password) = try make(r)
            let event = audit(r, a)
            try await insert(a, password, in: r, by: p.username, ip: event.ip, c)
            try await log.append(event, c)
            return a
        }
    }

    func importAccount(resourceName: String, by p: Principal, newResource: @Sendable () -> ResourceRecord,
        make: @Sendable (ResourceRecord, PasswordPolicy) throws -> (AccountRecord, Secret),
        audit: @Sendable (ResourceRecord, AccountRecord, Bool) -> AuditEvent) async throws -> Bool
    {
        try await db.write { c in
            let r: ResourceRecord
            let created: Bool
            if let existing = try await c.all(ResourceRecord.self, "SELECT * FROM resources WHERE name = ?", [resourceName])
                .first(where: { PGCatalog.sameName($0.name, resourceName) })
            {
                guard let have = try await PGAccess.onResource(existing, p, c), have >= .manage else {
                    throw DomainError(.forbidden, "forbidden", "resource '\(resourceName)' exists and you do not manage it")
                }
                (r, created) = (existing, false)
            } else {
                let rec = newResource()
                try await PGCatalog.requireType(rec.type, c)
                try await c.insert(rec, into: "resources")
                (r, created) = (rec, true)
            }
            let (a, password) = try make(r, try await PGCatalog.effectivePolicy(for: r, c))
            let event = audit(r, a, created)
            try await insert(a, password, in: r, by: p.username, ip: event.ip, c)
            try await log.append(event, c)
            return created
        }
    }

    private func insert(_ a: AccountRecord, _ password: Secret?, in r: ResourceRecord, by user: String, ip: String, _ c: PGConnection) async throws {
        if try await c.scalar(Int.self, "SELECT 1 FROM accounts WHERE resourceId = ? AND loginName = ?", [r.id, a.loginName]) != nil {
            throw DomainError(.conflict, "conflict", "resource '\(r.name)' already has an account '\(a.loginName)'")
        }
        try await c.insert(a, into: "accounts")
        if let password { try await secrets.setCurrent(password, account: a.id, by: user, at: a.createdAt, ip: ip, c) }
    }
}
