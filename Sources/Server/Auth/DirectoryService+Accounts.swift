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
        var toAdd: [(id: String, name: String, dn: String)] = []
        for person in people {
            // A domain account is its sAMAccountName, whatever attribute users sign in with.
            let name = person.account ?? person.name
            let key = name.lowercased()
            guard seen.insert(key).inserted else {
                out.skipped.append(.init(name: name, reason: "another directory entry (\(Self.short(person.dn))) has the same name"))
                continue
            }
            if let a = byName[key] {
                out.existing.append(a.loginName)
                if a.syncStatus == .missing, mine[a.id] != nil {
                    await mark(a, .unknown, "the directory lists this account again", &out, with: s, by: p, ip: ip)
                }
            } else if person.disabled {
                out.skipped.append(.init(name: name, reason: "disabled in the directory"))
            } else if (try? Validate.name(name, field: "loginName")) == nil {
                out.skipped.append(.init(name: String(name.prefix(100)), reason: "not an acceptable account name"))
            } else {
                toAdd.append((newID(), name, person.dn))
            }
        }
        // Marked before they are made, in one write: a crash in between leaves only unused ids.
        try await store.markImported(.accounts, Dictionary(toAdd.map { ($0.id, $0.dn) }, uniquingKeysWith: { a, _ in a }))
        for n in toAdd {
            do {
                let a = try await s.creation.addUnknown(id: n.id, rid: domain.id, loginName: n.name,
                    description: "from the directory: \(Self.short(n.dn))", by: p, ip: ip, operation: "directory_import_account")
                (mine[a.id], byName[n.name.lowercased()]) = (n.dn, a)
                out.created.append(a.loginName)
            } catch let e as DomainError {
                out.skipped.append(.init(name: n.name, reason: e.message))
            } catch let e as Authorizer.Denied {
                out.skipped.append(.init(name: n.name, reason: e.reason))
            }
        }
        guard removals else { return out }
        // Only what an import made from under this base is this sync's to miss.
        let suffix = "," + Self.normalized(base)
        for a in existing where mine[a.id].map({ Self.normalized($0).hasSuffix(suffix) }) ?? false
            && !seen.contains(a.loginName.lowercased()) && a.syncStatus != .missing
        {
            await mark(a, .missing, "the directory no longer lists this account; it is kept with its passwords", &out, with: s, by: p, ip: ip)
        }
        return out
    }

    /// A DN compared without case or the blanks after its commas.
    static func normalized(_ dn: String) -> String {
        dn.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",")
    }

    static func short(_ dn: String) -> String {
        String(String(dn.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }).prefix(200))
    }

    /// Sets the account's status; one the caller may not change is reported, and the rest goes on.
    private func mark(_ a: AccountRecord, _ status: SyncStatus, _ why: String, _ out: inout DirectoryResourcesReport.Accounts,
        with s: DirectoryImportServices, by p: Principal, ip: String) async
    {
        do {
            try await s.accounts.mark(a.id, of: a.resourceId, status, by: p, audit: AuditEvent(user: p.username, ip: ip,
                operation: status == .missing ? "directory_account_missing" : "directory_account_found", account: a.loginName, message: why,
                resourceId: a.resourceId, accountId: a.id))
            if status == .missing { out.missing.append(a.loginName) }
        } catch {
            out.skipped.append(.init(name: a.loginName, reason: "its status could not be set: \(Self.describe(error))"))
        }
    }
}
