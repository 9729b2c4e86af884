import Foundation
import Shared

/// Adding accounts with their first password: one through the API or console (manage on the
/// resource), or a CSV import line, which may create its resource (owned by the importer).
struct AccountCreation: Sendable {
    let store: any AccountCreationStore
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    func add(rid: String, _ b: AccountBody, by p: Principal, ip: String) async throws -> AccountRecord {
        let at = now()
        let a = try await store.create(in: rid, visibleTo: p, authorize: authorizer.on(p, .createAccount),
            make: { r in
                (AccountRecord(id: newID(), resourceId: r.id, loginName: b.loginName, description: b.description, notes: b.notes,
                    customFields: b.customFields ?? [:], syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: at, createdAt: at),
                    Secret(b.password))
            },
            audit: { r, a in
                AuditEvent(user: p.username, ip: ip, operation: "create_account", resource: r.name, account: a.loginName, resourceId: r.id,
                    accountId: a.id)
            })
        guard let a else { throw DomainError.notFound("resource") }
        return a
    }

    /// An account whose password nobody knows yet (a domain account found in the directory): no
    /// password is stored, and `lastChangedAt` stays nil until the first reset sets one.
    func addUnknown(id: String = newID(), rid: String, loginName: String, description: String, by p: Principal, ip: String, operation: String)
        async throws -> AccountRecord
    {
        let at = now()
        let a = try await store.create(in: rid, visibleTo: p, authorize: authorizer.on(p, .createAccount),
            make: { r in
                (AccountRecord(id: id, resourceId: r.id, loginName: loginName, description: description, notes: nil, customFields: [:],
                    syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: nil, createdAt: at), nil)
            },
            audit: { r, a in
                AuditEvent(user: p.username, ip: ip, operation: operation, resource: r.name, account: a.loginName,
                    message: "no password is known until a reset", resourceId: r.id, accountId: a.id)
            })
        guard let a else { throw DomainError.notFound("resource") }
        return a
    }

    /// One CSV line (lower-cased column names): finds or creates the resource, then adds the
    /// account. Audited on success; says what it did.
    func importLine(_ v: [String: String], by p: Principal, ip: String, line: Int) async throws -> String {
        try authorizer.check(p, .importCSV)
        guard let rname = v["resourcename"], let aname = v["accountname"] else {
            throw DomainError.invalid("missing_field", "resourceName and accountName are required")
        }
        try Validate.name(rname, field: "resourceName")
        try Validate.name(aname, field: "accountName")
        try Validate.hostName(v["dnsname"] ?? rname)
        for k in ["description", "department", "location", "url", "accountdescription", "notes"] { try Validate.text(v[k], field: k) }
        if let pw = v["password"] { try Validate.password(pw) }
        let at = now()
        let generated = v["password"] == nil
        let created = try await store.importAccount(resourceName: rname, by: p,
            newResource: {
                ResourceRecord(id: newID(), name: rname, dnsName: v["dnsname"] ?? rname, type: v["type"] ?? "Generic", description: v["description"],
                    department: v["department"], location: v["location"], url: v["url"], customFields: [:], passwordPolicy: nil, ownerId: p.userID,
                    createdAt: at, updatedAt: at)
            },
            make: { r, policy in
                let password = try v["password"].map(Secret.init) ?? PasswordService.generate(policy, aname)
                return (AccountRecord(id: newID(), resourceId: r.id, loginName: aname, description: v["accountdescription"], notes: v["notes"],
                    customFields: [:], syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: at, createdAt: at), password)
            },
            audit: { r, a, created in
                AuditEvent(user: p.username, ip: ip, operation: "import_line", resource: r.name, account: a.loginName,
                    message: "line \(line): " + Self.said(created, generated), resourceId: r.id, accountId: a.id)
            })
        return Self.said(created, generated)
    }

    static func said(_ created: Bool, _ generated: Bool) -> String {
        (created ? "created resource and " : "") + "added account" + (generated ? " (password generated)" : "")
    }
}
