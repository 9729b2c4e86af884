import Foundation
import GRDB

/// The task list: a page newest first of what the caller may see, with each task's account and
/// resource read for the whole page at once.
extension SQLiteTaskStore {
    func tasks(visibleTo p: Principal, mine: Bool, state: TaskRecord.State?, page: PageRequest) async throws -> Page<NamedTask> {
        try await db.read { db in
            var visible = "1=1"
            var args: [String] = []
            if mine {
                visible = "requestedById = ?"
                args = [p.userID]
            } else {
                let scope = try ListScope.of(p, db)
                if !scope.everything {
                    visible = "(requestedById = ? OR accountId IN (\(NamedListQuery.list(Array(scope.accounts)))))"
                    args = [p.userID] + Array(scope.accounts)
                }
            }
            var sql = "SELECT * FROM tasks WHERE " + visible
            var all = args
            if let c = page.after {
                // The cursor row's stored time, read among the rows the caller may see (older rows hold
                // GRDB's date text, so the time is compared as stored, never rebuilt from the cursor).
                let boundary = "(SELECT createdAt FROM tasks WHERE \(visible) AND id = ?)"
                sql += " AND (createdAt < \(boundary) OR (createdAt = \(boundary) AND id < ?))"
                all += args + [c.id] + args + [c.id, c.id]
            }
            if let state {
                sql += " AND state = ?"
                all.append(state.rawValue)
            }
            sql += " ORDER BY createdAt DESC, id DESC " + ResourceListQuery.Dialect.sqlite.limit(page, &all)
            let tasks = try db.list(sql, StatementArguments(all), TaskRecord.rowColumns, cache: mine || args.isEmpty, TaskRecord.init(row:_:))
            return Page(fetched: try Self.named(tasks, p, db), page, cursor: NamedTask.cursor)
        }
    }

    /// Each task with its account and resource where the caller sees them (as `SQLiteAccountStore.visible`
    /// decides), the records read for all the tasks at once.
    static func named(_ tasks: [TaskRecord], _ p: Principal, _ db: Database) throws -> [NamedTask] {
        func byID<T>(_ table: String, _ ids: Set<String>, _ columns: [String], _ make: (Row, RowLayout) throws -> T, _ id: (T) -> String) throws
            -> [String: T]
        {
            let list = Array(ids)
            let rows = try db.list("SELECT * FROM \(table) WHERE id IN (\(NamedListQuery.list(list)))", StatementArguments(list), columns,
                cache: false, make)
            return Dictionary(rows.map { (id($0), $0) }, uniquingKeysWith: { a, _ in a })
        }
        let resources = try byID("resources", Set(tasks.map(\.resourceId)), ResourceRecord.rowColumns, ResourceRecord.init(row:_:), \.id)
        let accounts = try byID("accounts", Set(tasks.map(\.accountId)), AccountRecord.rowColumns, AccountRecord.init(row:_:), \.id)
        var memo = AccessMemo()
        return try tasks.map { t in
            guard let r = resources[t.resourceId], let a = accounts[t.accountId], a.resourceId == r.id,
                try Access.onAccount(a, resource: r, p, &memo, db) != nil
            else { return NamedTask(task: t, account: nil, resource: nil) }
            return NamedTask(task: t, account: a, resource: r)
        }
    }
}
