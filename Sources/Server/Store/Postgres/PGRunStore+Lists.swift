import Foundation

/// The run lists: a page of runs newest first, counted over the accounts the caller sees.
extension PGRunStore {
    func runs(_ kind: RunListQuery.Kind, groups: [String]?, trigger: String?, _ req: PageRequest, visibleTo p: Principal) async throws
        -> Page<RunListItem>
    {
        if let groups, groups.isEmpty { return Page(items: [], next: nil) }
        return try await db.read { c in
            let q = RunListQuery.page(kind, groups: groups, trigger: trigger, req)
            let runs = try await c.rows(q.sql, q.args.map(\.pg)).map { row in
                StoredRun(id: try row["id"], groupId: try row["groupId"], groupName: try row["groupName"], trigger: try row["trigger"],
                    requestedBy: try row["requestedBy"], entries: try row["entries"], seconds: try row["startedAt"])
            }
            let page = Page(fetched: runs, req, cursor: RunListQuery.cursor)
            let outcomes = try await Self.outcomes(kind, of: page.items.map(\.id), c)
            let scope = try await ListScope.of(p, c)
            return try page.map { try $0.item(scope: scope, outcomes: outcomes) }
        }
    }

    /// The outcomes of the tasks of these runs, by task id.
    static func outcomes(_ kind: RunListQuery.Kind, of runs: [String], _ c: PGConnection) async throws -> [String: RunTaskOutcome] {
        guard !runs.isEmpty else { return [:] }
        var all: [String: RunTaskOutcome] = [:]
        for row in try await c.rows(RunListQuery.outcomes(kind, runs: runs.count), runs) {
            guard let state = TaskRecord.State(rawValue: try row["state"]) else { continue }
            all[try row["id"]] = RunTaskOutcome(state: state, code: try row["resultCode"], message: try row["resultMessage"])
        }
        return all
    }
}

extension RunListArg {
    var pg: any PGBindable {
        switch self {
        case .text(let s): s
        case .real(let d): d
        }
    }
}

extension PGRunStore {
    func passwordAges(visibleTo p: Principal) async throws -> [PasswordAge] {
        try await db.read { c in
            let scope = try await ListScope.of(p, c)
            var ages: [PasswordAge] = []
            for r in try await c.all(ResourceRecord.self, "SELECT * FROM resources ORDER BY name") {
                // The caller's accounts first: a resource it cannot see costs no policy lookup.
                let seen = try await c.all(AccountRecord.self, "SELECT * FROM accounts WHERE resourceId = ? ORDER BY loginName", [r.id])
                    .filter { scope.sees(resourceId: r.id, accountId: $0.id) }
                guard !seen.isEmpty else { continue }
                let policy = try await PGCatalog.effectivePolicy(for: r, c)
                guard let days = policy.maxAgeDays, days > 0 else { continue }
                for a in seen {
                    guard let changed = try await Self.changedAt(a, c) else { continue }
                    ages.append(PasswordAge(resourceId: r.id, resource: r.name, accountId: a.id, account: a.loginName, policy: policy.name,
                        changedAt: changed, maxAgeDays: days))
                }
            }
            return ages
        }
    }
}
