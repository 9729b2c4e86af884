import Foundation

/// The accounts of resources: list, show, edit and delete (adding one, with its first password,
/// and changing passwords stay with the task engine). Authorization goes through the one
/// `Authorizer`, here, so the API and the console get the same answer.
struct AccountService: Sendable {
    let store: any AccountStore
    let authorizer: Authorizer

    func accounts(of resourceID: String, syncStatus: SyncStatus? = nil, by p: Principal) async throws -> [AccountRecord] {
        try await accounts(of: resourceID, AccountFilter(syncStatus: syncStatus), .all, by: p).items
    }

    /// One page of the resource's accounts the caller can see, by login name.
    func accounts(of resourceID: String, _ filter: AccountFilter, _ page: PageRequest, by p: Principal) async throws -> Page<AccountRecord> {
        guard let accounts = try await store.accounts(of: resourceID, visibleTo: p, filter, page, authorize: authorizer.on(p, .readResource))
        else { throw DomainError.notFound("resource") }
        return accounts
    }

    func account(_ accountID: String, of resourceID: String, by p: Principal) async throws -> AccountRecord {
        guard let a = try await store.account(accountID, of: resourceID, visibleTo: p, authorize: authorizer.on(p, .readAccount)) else {
            throw DomainError.notFound("account")
        }
        return a
    }

    /// Which of `operations` the caller may do on the account (the console's buttons).
    func allowed(_ operations: [Operation], on accountID: String, of resourceID: String, by p: Principal) async throws -> Set<Operation> {
        guard let have = try await store.permission(on: accountID, of: resourceID, visibleTo: p) else { return [] }
        return Set(operations.filter { (try? authorizer.check(p, $0, effective: have, isObject: true)) != nil })
    }

    func update(_ accountID: String, of resourceID: String, _ b: AccountPatchBody, by p: Principal, ip: String) async throws -> AccountRecord {
        try b.validate()
        let check = authorizer.on(p, .updateAccount)
        let updated = try await store.update(accountID, of: resourceID, by: p, { stored, have in
            try check(have)
            var a = stored
            if let v = b.loginName { a.loginName = v }
            if let v = b.description { a.description = v }
            if let v = b.notes { a.notes = v }
            if let v = b.customFields { a.customFields = v }
            return a
        }, audit: { r, a in
            AuditEvent(user: p.username, ip: ip, operation: "update_account", resource: r.name, account: a.loginName, resourceId: r.id, accountId: a.id)
        })
        guard let updated else { throw DomainError.notFound("account") }
        return updated
    }

    /// Sets the account's sync status (a directory sync that no longer finds it, or finds it again).
    func mark(_ accountID: String, of resourceID: String, _ status: SyncStatus, by p: Principal, audit: AuditEvent) async throws {
        let check = authorizer.on(p, .updateAccount)
        let updated = try await store.update(accountID, of: resourceID, by: p, { stored, have in
            try check(have)
            var a = stored
            a.syncStatus = status
            return a
        }, audit: { r, _ in
            var event = audit
            event.resource = r.name
            return event
        })
        guard updated != nil else { throw DomainError.notFound("account") }
    }

    /// Deletes the account with its password history; never while a reset of it is under way.
    func delete(_ accountID: String, of resourceID: String, by p: Principal, ip: String) async throws {
        let deleted = try await store.delete(accountID, of: resourceID, by: p, authorize: authorizer.on(p, .deleteAccount)) { r, a in
            AuditEvent(user: p.username, ip: ip, operation: "delete_account", resource: r.name, account: a.loginName, resourceId: r.id, accountId: a.id)
        }
        guard deleted else { throw DomainError.notFound("account") }
    }
}
