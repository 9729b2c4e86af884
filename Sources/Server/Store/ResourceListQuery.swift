import Foundation

/// The filters of the resource list; nil filters nothing.
struct ResourceFilter: Sendable, Equatable {
    /// Names starting with this, whatever their case.
    var namePrefix: String? = nil
    var type: String? = nil
    var groupId: String? = nil
    /// The owner's user name.
    var owner: String? = nil
    /// Names or DNS names containing this, whatever their case.
    var search: String? = nil
    /// Resources with at least one account in this state.
    var syncStatus: SyncStatus? = nil
}

/// The one SELECT both stores run for "the resources `p` can see": owned, shared on the resource,
/// on one of its groups or on one of its accounts (to `p` or to one of `p`'s user groups), with
/// the owner's name, filtered, ordered by name, one page. Every value is an argument.
struct ResourceListQuery {
    enum Dialect { case sqlite, postgres }

    let sql: String
    let arguments: [String]

    init(_ p: Principal, userGroups: [String], _ f: ResourceFilter, _ page: PageRequest, _ dialect: Dialect) {
        var sql = "SELECT r.*, u.username AS ownerName FROM resources r LEFT JOIN users u ON u.id = r.ownerId WHERE "
        var args: [String] = []
        let principals = ["user:" + p.userID] + userGroups.map { "userGroup:" + $0 }
        let held = "s.principalKind || ':' || s.principalId IN (\(Array(repeating: "?", count: principals.count).joined(separator: ", ")))"
        /// Resources `p` sees whole: owned, or shared on the resource or one of its groups.
        func whole(_ column: String) -> String {
            args += [p.userID] + principals + principals
            return """
                (\(column) IN (SELECT id FROM resources WHERE ownerId = ?)
                  OR \(column) IN (SELECT s.objectId FROM shares s WHERE s.objectKind = 'resource' AND \(held))
                  OR \(column) IN (SELECT gr.resourceId FROM groupResources gr JOIN shares s ON s.objectKind = 'group' AND s.objectId = gr.groupId
                                    WHERE \(held)))
                """
        }
        let sharedAccount = "SELECT s.objectId FROM shares s WHERE s.objectKind = 'account' AND \(held)"
        if p.superAdmin {
            sql += "1=1"
        } else {
            sql += "(" + whole("r.id")
            sql += " OR r.id IN (SELECT a.resourceId FROM accounts a WHERE a.id IN (\(sharedAccount))))"
            args += principals
        }
        if let prefix = f.namePrefix, !prefix.isEmpty {
            sql += dialect == .sqlite ? " AND r.name LIKE ? ESCAPE '\\'" : " AND r.name COLLATE \"C\" ILIKE ? ESCAPE '\\'"
            args.append(NamePrefix.like(prefix))
        }
        if let type = f.type {
            sql += " AND lower(r.type) = lower(?)"
            args.append(type)
        }
        if let g = f.groupId {
            sql += " AND r.id IN (SELECT resourceId FROM groupResources WHERE groupId = ?)"
            args.append(g)
        }
        if let owner = f.owner {
            sql += " AND lower(u.username) = lower(?)"
            args.append(owner)
        }
        if let s = f.search, !s.isEmpty {
            sql += dialect == .sqlite ? " AND (r.name LIKE ? ESCAPE '\\' OR r.dnsName LIKE ? ESCAPE '\\')"
                : " AND (r.name COLLATE \"C\" ILIKE ? ESCAPE '\\' OR r.dnsName ILIKE ? ESCAPE '\\')"
            args += ["%" + NamePrefix.like(s), "%" + NamePrefix.like(s)]
        }
        if let status = f.syncStatus {
            // Only accounts the caller sees count: all of a resource seen whole, else those shared one by one.
            sql += " AND r.id IN (SELECT a.resourceId FROM accounts a WHERE a.syncStatus = ?"
            args.append(status.rawValue)
            if !p.superAdmin {
                sql += " AND (" + whole("a.resourceId") + " OR a.id IN (\(sharedAccount)))"
                args += principals
            }
            sql += ")"
        }
        // Names are unique whatever their case, so the name alone orders the list and its index serves the page.
        if let c = page.after {
            sql += " AND r.name > ?"
            args.append(c.key)
        }
        sql += " ORDER BY r.name " + dialect.limit(page, &args)
        self.sql = sql
        arguments = args
    }

    static func cursor(_ e: ResourceEntry) -> PageCursor { PageCursor(key: e.resource.name, id: e.resource.id) }
}

/// The filters of a resource's account list.
struct AccountFilter: Sendable, Equatable {
    /// Login names starting with this, whatever their case.
    var namePrefix: String? = nil
    var syncStatus: SyncStatus? = nil

    func matches(_ a: AccountRecord) -> Bool {
        NamePrefix.matches(a.loginName, namePrefix) && (syncStatus == nil || a.syncStatus == syncStatus)
    }
}

/// The one SELECT both stores run for a page of a resource's accounts, all of which the caller
/// sees (a grant on the resource or its groups), by login name.
struct AccountListQuery {
    let sql: String
    let arguments: [String]

    init(resourceID: String, _ f: AccountFilter, _ page: PageRequest, _ dialect: ResourceListQuery.Dialect) {
        var sql = "SELECT * FROM accounts WHERE resourceId = ?"
        var args = [resourceID]
        if let prefix = f.namePrefix, !prefix.isEmpty {
            sql += dialect == .sqlite ? " AND loginName LIKE ? ESCAPE '\\'" : " AND loginName ILIKE ? ESCAPE '\\'"
            args.append(NamePrefix.like(prefix))
        }
        if let s = f.syncStatus {
            sql += " AND syncStatus = ?"
            args.append(s.rawValue)
        }
        // Login names are unique on a resource: the (resourceId, loginName) index serves the page.
        if let c = page.after {
            sql += " AND loginName > ?"
            args.append(c.key)
        }
        sql += " ORDER BY loginName " + dialect.limit(page, &args)
        self.sql = sql
        arguments = args
    }

    static func cursor(_ a: AccountRecord) -> PageCursor { PageCursor(key: a.loginName, id: a.id) }
}

extension ResourceListQuery.Dialect {
    /// SQLite binds the limit, so that a list's SQL text, and the statement cached for it, does not
    /// vary with it; PostgreSQL's binds are text, which `LIMIT` does not take.
    func limit(_ page: PageRequest, _ args: inout [String]) -> String {
        guard self == .sqlite else { return "LIMIT \(page.fetchLimit)" }
        args.append(String(page.fetchLimit))
        return "LIMIT ?"
    }
}
