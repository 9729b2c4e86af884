import Foundation
import GRDB

// The records lists read by the hundred, decoded from a row by hand: GRDB's Codable path costs
// about a quarter of a list request (a decoder, a container and a name lookup per field).
// Every stored property is assigned here, so a new one does not compile until it is read; dates
// are read as GRDB reads them, from seconds or from its date text.

extension ResourceRecord {
    static let rowColumns = ["id", "name", "dnsName", "type", "description", "department", "location", "url", "customFields",
        "passwordPolicy", "ownerId", "createdAt", "updatedAt"]

    init(row: Row) throws { try self.init(row: row, RowLayout(Self.rowColumns, Array(row.columnNames))) }

    /// `i` places `rowColumns` in the row, in that order.
    init(row: Row, _ i: RowLayout) throws {
        id = try row.decode(atIndex: i[0]); name = try row.decode(atIndex: i[1]); dnsName = try row.decode(atIndex: i[2])
        type = try row.decode(atIndex: i[3]); description = try row.decode(atIndex: i[4]); department = try row.decode(atIndex: i[5])
        location = try row.decode(atIndex: i[6]); url = try row.decode(atIndex: i[7]); customFields = try row.stringMap(i[8])
        passwordPolicy = try row.decode(atIndex: i[9]); ownerId = try row.decode(atIndex: i[10])
        createdAt = try row.decode(atIndex: i[11]); updatedAt = try row.decode(atIndex: i[12])
    }
}

extension AccountRecord {
    static let rowColumns = ["id", "resourceId", "loginName", "description", "notes", "customFields", "syncStatus", "lastVerifiedAt",
        "lastChangedAt", "createdAt"]

    init(row: Row) throws { try self.init(row: row, RowLayout(Self.rowColumns, Array(row.columnNames))) }

    init(row: Row, _ i: RowLayout) throws {
        id = try row.decode(atIndex: i[0]); resourceId = try row.decode(atIndex: i[1]); loginName = try row.decode(atIndex: i[2])
        description = try row.decode(atIndex: i[3]); notes = try row.decode(atIndex: i[4]); customFields = try row.stringMap(i[5])
        syncStatus = try StoreError.decode(SyncStatus.self, row.decode(atIndex: i[6]))
        lastVerifiedAt = try row.decode(atIndex: i[7]); lastChangedAt = try row.decode(atIndex: i[8]); createdAt = try row.decode(atIndex: i[9])
    }
}

extension AuditEntry {
    static let rowColumns = ["id", "at", "user", "ip", "operation", "resource", "account", "reason", "ticketId", "outcome", "message",
        "resourceId", "accountId", "prevHash", "hash"]

    init(row: Row) throws { try self.init(row: row, RowLayout(Self.rowColumns, Array(row.columnNames))) }

    init(row: Row, _ i: RowLayout) throws {
        id = try row.decode(atIndex: i[0]); at = try row.decode(atIndex: i[1]); user = try row.decode(atIndex: i[2])
        ip = try row.decode(atIndex: i[3]); operation = try row.decode(atIndex: i[4]); resource = try row.decode(atIndex: i[5])
        account = try row.decode(atIndex: i[6]); reason = try row.decode(atIndex: i[7]); ticketId = try row.decode(atIndex: i[8])
        outcome = try row.decode(atIndex: i[9]); message = try row.decode(atIndex: i[10]); resourceId = try row.decode(atIndex: i[11])
        accountId = try row.decode(atIndex: i[12]); prevHash = try row.decode(atIndex: i[13]); hash = try row.decode(atIndex: i[14])
    }
}

extension TaskRecord {
    static let rowColumns = ["id", "kind", "state", "phase", "via", "resourceId", "accountId", "host", "requestedBy", "requestedById",
        "newPasswordGiven", "pendingSecretId", "attempts", "resultCode", "resultMessage", "reason", "ticketId", "createdAt", "startedAt",
        "finishedAt", "notBefore", "notAfter", "rotationRunId", "integrityRunId", "reconcileAttempts"]

    init(row: Row) throws { try self.init(row: row, RowLayout(Self.rowColumns, Array(row.columnNames))) }

    init(row: Row, _ i: RowLayout) throws {
        id = try row.decode(atIndex: i[0]); kind = try StoreError.decode(Kind.self, row.decode(atIndex: i[1]))
        state = try StoreError.decode(State.self, row.decode(atIndex: i[2])); phase = try StoreError.decode(Phase.self, row.decode(atIndex: i[3]))
        via = try row.decode(atIndex: i[4]); resourceId = try row.decode(atIndex: i[5]); accountId = try row.decode(atIndex: i[6])
        host = try row.decode(atIndex: i[7]); requestedBy = try row.decode(atIndex: i[8]); requestedById = try row.decode(atIndex: i[9])
        newPasswordGiven = try row.decode(atIndex: i[10]); pendingSecretId = try row.decode(atIndex: i[11]); attempts = try row.decode(atIndex: i[12])
        resultCode = try row.decode(atIndex: i[13]); resultMessage = try row.decode(atIndex: i[14]); reason = try row.decode(atIndex: i[15])
        ticketId = try row.decode(atIndex: i[16]); createdAt = try row.decode(atIndex: i[17]); startedAt = try row.decode(atIndex: i[18])
        finishedAt = try row.decode(atIndex: i[19]); notBefore = try row.decode(atIndex: i[20]); notAfter = try row.decode(atIndex: i[21])
        rotationRunId = try row.decode(atIndex: i[22]); integrityRunId = try row.decode(atIndex: i[23])
        reconcileAttempts = try row.decode(atIndex: i[24])
    }
}

/// Where a record's columns sit in a statement's rows, found once for all its rows: a lookup by
/// name for every field of every row costs more than the rest of the decoding.
struct RowLayout {
    private let positions: [Int]

    /// The first column of each name, whatever its case, as GRDB finds it.
    init(_ names: [String], _ columns: [String]) throws {
        let lowered = columns.map { $0.lowercased() }
        positions = try names.map { name in
            guard let i = lowered.firstIndex(of: name.lowercased()) else {
                throw StoreError(code: .corruptValue, message: "no column \(name) in the row")
            }
            return i
        }
    }

    subscript(_ field: Int) -> Int { positions[field] }
}

extension Database {
    /// A list's rows, each made by `make` with the layout of `names`. The statement is cached unless
    /// `cache` is false (SQL whose shape varies with the caller's objects).
    func list<T>(_ sql: String, _ arguments: StatementArguments, _ names: [String], cache: Bool = true,
        _ make: (Row, RowLayout) throws -> T) throws -> [T]
    {
        let statement = cache ? try cachedStatement(sql: sql) : try makeStatement(sql: sql)
        let layout = try RowLayout(names, statement.columnNames)
        let rows = try Row.fetchCursor(statement, arguments: arguments)
        var items: [T] = []
        while let row = try rows.next() { items.append(try make(row, layout)) }
        return items
    }
}

extension Row {
    /// A `[String: String]` stored as a JSON object, as GRDB's Codable path writes it.
    func stringMap(_ index: Int) throws -> [String: String] {
        let text: String = try decode(atIndex: index)
        if text == "{}" { return [:] }
        return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}
