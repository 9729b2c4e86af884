import GRDB

/// What a list may show its caller: every list (audit, reports, runs, outbox, tasks) asks this one
/// type. Administrators and auditors, whose role is to oversee, see everything; everyone else sees
/// the resources and accounts shared with them and their own actions.
struct ListScope: Sendable {
    let everything: Bool
    let username: String
    let userID: String
    /// Resources seen whole (owned, or shared on the resource or one of its groups).
    let resources: Set<String>
    /// Accounts seen: those of `resources` and those shared one by one.
    let accounts: Set<String>

    static func of(_ p: Principal, _ db: Database) throws -> ListScope {
        if seesEverything(p) {
            return ListScope(everything: true, username: p.username, userID: p.userID, resources: [], accounts: [])
        }
        var whole = Set<String>()
        var accounts = Set<String>()
        for r in try Access.visibleResources(p, db) {
            let seen = try Access.visibleAccounts(of: r, p, db)
            if try Access.onResource(r, p, db) != nil { whole.insert(r.id) }
            accounts.formUnion(seen.map(\.id))
        }
        return ListScope(everything: false, username: p.username, userID: p.userID, resources: whole, accounts: accounts)
    }

    /// The roles that oversee: administrators and auditors read every record and report.
    static func seesEverything(_ p: Principal) -> Bool {
        p.superAdmin || p.role == .administrator || p.role == .passwordAuditor
    }

    /// A record about an account, or about a whole resource when `accountId` is nil.
    func sees(resourceId: String?, accountId: String?) -> Bool {
        if everything { return true }
        if let a = accountId { return accounts.contains(a) }
        if let r = resourceId { return resources.contains(r) }
        return false
    }

    /// A record naming several accounts (a rotation notice, a run report) is seen only when all are.
    func seesAll(_ accountIds: [String]) -> Bool {
        everything || (!accountIds.isEmpty && accountIds.allSatisfy(accounts.contains))
    }
}
