import Foundation

/// The SELECT of a list ordered by a name whatever its case, then id, one page at a time: a base
/// query and its conditions, then the name prefix, the keyset after the cursor, the order and the
/// limit. Both stores run it; `nameColumn` compares case-insensitively in each (SQLite `NOCASE`,
/// PostgreSQL's ICU `nocase`), so the order is the store's and a cursor names a stored name.
struct NamedListQuery {
    private(set) var sql: String
    private(set) var arguments: [String]
    let nameColumn: String
    let idColumn: String
    let dialect: ResourceListQuery.Dialect

    /// `select` ends in a WHERE clause (`... WHERE 1=1` when it has no condition of its own).
    init(_ select: String, _ arguments: [String] = [], name: String, id: String, _ dialect: ResourceListQuery.Dialect) {
        sql = select
        self.arguments = arguments
        nameColumn = name
        idColumn = id
        self.dialect = dialect
    }

    /// Adds `AND condition` with its arguments.
    mutating func and(_ condition: String, _ args: [String] = []) {
        sql += " AND (\(condition))"
        arguments += args
    }

    /// The finished SQL: prefix, keyset, order and limit.
    func page(prefix: String?, _ page: PageRequest) -> (sql: String, arguments: [String]) {
        var sql = sql
        var args = arguments
        let folded = nameColumn + (dialect == .sqlite ? " COLLATE NOCASE" : " COLLATE nocase")
        if let prefix, !prefix.isEmpty {
            sql += dialect == .sqlite ? " AND \(nameColumn) LIKE ? ESCAPE '\\'" : " AND \(nameColumn) COLLATE \"C\" ILIKE ? ESCAPE '\\'"
            args.append(NamePrefix.like(prefix))
        }
        // A range on the name (an index serves it), then the id among equal names.
        if let c = page.after {
            sql += " AND \(folded) >= ? AND (\(folded) > ? OR \(idColumn) > ?)"
            args += [c.key, c.key, c.id]
        }
        sql += " ORDER BY \(folded), \(idColumn) " + dialect.limit(page, &args)
        return (sql, args)
    }

    /// The placeholders of an `IN (...)` for `ids` (never empty: `IN ()` is no SQL).
    static func list(_ ids: [String]) -> String { marks(ids.count) }

    /// `count` placeholders, or `NULL` (which matches nothing) for none.
    static func marks(_ count: Int) -> String {
        count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
