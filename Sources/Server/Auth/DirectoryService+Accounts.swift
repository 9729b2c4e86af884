import Foundation
import ResetPlugins
import Shared

/// The services an import works through, so that each of its changes is authorized and audited as
/// the same change made by hand would be.
struct DirectoryImportServices: Sendable {
    let resources: ResourceService
    let groups: GroupService
    let accounts: AccountService
    let creation: AccountCreation
}

extension DirectoryService {
    /// The `Windows Domain` resource accounts are added to, which the caller may add accounts to.
    func domainResource(_ id: String, with s: DirectoryImportServices, by p: Principal) async throws -> ResourceRecord {
        let r = try await s.resources.resource(id, by: p).resource
        guard r.type.caseInsensitiveCompare("Windows Domain") == .orderedSame else {
            throw DomainError.invalid("invalid_field", "domainResource must be a Windows Domain resource; \(r.name) is \(r.type)")
        }
        guard try await s.resources.allowed([.createAccount], on: id, by: p).contains(.createAccount) else {
            throw DomainError.forbidden("you may not add accounts to \(r.name)")
        }
        return r
    }

    /// Domain user accounts become accounts of `domain` with no password known (a disabled one is
    /// skipped); one the resource has already is existing. A sync (`removals`) marks `missing` the
    /// accounts an import added from under `base` that the directory no longer lists; one that
    /// comes back is `unknown` again. Nothing is deleted.
    func importAccounts(_ people: [DirectoryLogin.Person], under base: String, into domain: ResourceRecord, with s: DirectoryImportServices,
        removals: Bool, by p: Principal, ip: String) async throws -> DirectoryResourcesReport.Accounts
    {
        var out = DirectoryResourcesReport.Accounts()
        let existing = try await s.accounts.accounts(of: domain.id, by: p)
        var byName = Dictionary(existing.map { ($0.loginName.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        var mine = try await store.importedGroups(.accounts)
        var seen: Set<String> = []
        for person in people {
            let key = person.name.lowercased()
            guard seen.insert(key).inserted else {
                out.skipped.append(.init(name: person.name, reason: "another directory entry (\(person.dn)) has the same name"))
                continue
            }
            if let a = byName[key] {
                out.existing.append(a.loginName)
                if a.syncStatus == .missing, mine[a.id] != nil {
                    try await mark(a, .unknown, "the directory lists this account again", with: s, by: p, ip: ip)
                }
                continue
            }
            guard !person.disabled else {
                out.skipped.append(.init(name: person.name, reason: "disabled in the directory"))
                continue
            }
            guard (try? Validate.name(person.name, field: "loginName")) != nil else {
                out.skipped.append(.init(name: String(person.name.prefix(100)), reason: "not an acceptable account name"))
                continue
            }
            do {
                let a = try await s.creation.addUnknown(rid: domain.id, loginName: person.name, description: "from the directory: \(person.dn)",
                    by: p, ip: ip, operation: "directory_import_account")
                try await store.markImported(.accounts, groupID: a.id, dn: person.dn)
                (mine[a.id], byName[key]) = (person.dn, a)
                out.created.append(a.loginName)
            } catch let e as DomainError {
                out.skipped.append(.init(name: person.name, reason: e.message))
            }
        }
        guard removals else { return out }
        // Only what an import made from under this base is this sync's to miss.
        let ours = { (a: AccountRecord) in mine[a.id].map { $0.lowercased().hasSuffix("," + base.lowercased()) } ?? false }
        for a in existing where ours(a) && !seen.contains(a.loginName.lowercased()) && a.syncStatus != .missing {
            try await mark(a, .missing, "the directory no longer lists this account; it is kept with its passwords", with: s, by: p, ip: ip)
            out.missing.append(a.loginName)
        }
        return out
    }

    private func mark(_ a: AccountRecord, _ status: SyncStatus, _ why: String, with s: DirectoryImportServices, by p: Principal, ip: String)
        async throws
    {
        try await s.accounts.mark(a.id, of: a.resourceId, status, by: p, audit: AuditEvent(user: p.username, ip: ip,
            operation: status == .missing ? "directory_account_missing" : "directory_account_found", account: a.loginName, message: why,
            resourceId: a.resourceId, accountId: a.id))
    }
}
