import Foundation
import GRDB

/// The run lists: a page of runs newest first, counted over the accounts the caller sees.
extension SQLiteRunStore {
    func runs(_ kind: RunListQuery.Kind, groups: [String]?, trigger: String?, _ req: PageRequest, visibleTo p: Principal) async throws
        -> Page<RunListItem>
    {
        if let groups, groups.isEmpty { return Page(items: [], next: nil) }
        return try await db.read { db in
            let q = RunListQuery.page(kind, groups: groups, trigger: trigger, req)
            // Columns by position, in the order `RunListQuery.page` selects them.
            let runs = try Row.fetchAll(db, sql: q.sql, arguments: StatementArguments(q.args.map(\.sqlite))).map { row in
                StoredRun(id: try row.decode(atIndex: 0), groupId: try row.decode(atIndex: 1), groupName: try row.decode(atIndex: 2),
                    trigger: try row.decode(atIndex: 3), requestedBy: try row.decode(atIndex: 4), entries: try row.decode(atIndex: 6),
                    seconds: try row.decode(atIndex: 5))
            }
            let page = Page(fetched: runs, req, cursor: RunListQuery.cursor)
            let outcomes = try Self.outcomes(kind, of: page.items.map(\.id), db)
            let scope = try ListScope.of(p, db)
            return try page.map { try $0.item(scope: scope, outcomes: outcomes) }
        }
    }

    /// The outcomes of the tasks of these runs, by task id.
    static func outcomes(_ kind: RunListQuery.Kind, of runs: [String], _ db: Database) throws -> [String: RunTaskOutcome] {
        guard !runs.isEmpty else { return [:] }
        var all: [String: RunTaskOutcome] = [:]
        for row in try Row.fetchAll(db, sql: RunListQuery.outcomes(kind, runs: runs.count), arguments: StatementArguments(runs)) {
            // id, state, resultCode, resultMessage, as `RunListQuery.outcomes` selects them.
            guard let state = TaskRecord.State(rawValue: try row.decode(String.self, atIndex: 1)) else { continue }
            all[try row.decode(atIndex: 0)] = RunTaskOutcome(state: state, code: try row.decode(atIndex: 2), message: try row.decode(atIndex: 3))
        }
        return all
    }
}

extension RunListArg {
    var sqlite: any DatabaseValueConvertible {
        switch self {
        case .text(let s): s
        case .real(let d): d
        }
    }
}

extension SQLiteRunStore {
    func passwordAges(visibleTo p: Principal) async throws -> [PasswordAge] {
        try await db.read { db in
            let scope = try ListScope.of(p, db)
            var ages: [PasswordAge] = []
            for r in try ResourceRecord.order(Column("name")).fetchAll(db) {
                // The caller's accounts first: a resource it cannot see costs no policy lookup.
                let seen = try AccountRecord.filter(Column("resourceId") == r.id).order(Column("loginName")).fetchAll(db)
                    .filter { scope.sees(resourceId: r.id, accountId: $0.id) }
                guard !seen.isEmpty else { continue }
                let policy = try Catalog.effectivePolicy(for: r, db)
                guard let days = policy.maxAgeDays, days > 0 else { continue }
                for a in seen {
                    guard let changed = try Self.changedAt(a, db) else { continue }
                    ages.append(PasswordAge(resourceId: r.id, resource: r.name, accountId: a.id, account: a.loginName, policy: policy.name,
                        changedAt: changed, maxAgeDays: days))
                }
            }
            return ages
        }
    }
}
