import Foundation
import GRDB

/// The audit trail's head, `id:hash:mac` in `settings`, the mac under the audit key. A new vault
/// gets the genesis head with its audit key, so a head that is missing or does not authenticate was
/// rewritten: appends then record an alarm in the chain itself and `audit verify` reports it.
enum AuditHead {
    enum State: Equatable {
        case valid(id: Int64, hash: String)
        /// Missing, malformed, unkeyed (from before 0.12) or with a wrong mac.
        case forged
    }

    /// The operation of the alarm record an append writes when it finds the head rewritten.
    static let alarm = "audit_head_rewritten"

    static func value(id: Int64, hash: String, key: Data) -> String {
        "\(id):\(hash):" + AuditEntry.digest(key: key, prev: hash, id: id, at: 0, fields: ["audit.head"])
    }

    static func stored(_ db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM settings WHERE key = 'audit.head'"))
    }

    static func read(key: Data, _ db: Database) throws -> State { parse(try stored(db), key: key) }

    /// The state of a stored head value (any backend's).
    static func parse(_ head: String?, key: Data) -> State {
        guard let head else { return .forged }
        let parts = head.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let id = Int64(parts[0]), value(id: id, hash: parts[1], key: key) == head else { return .forged }
        return .valid(id: id, hash: parts[1])
    }

    static func write(id: Int64, hash: String, key: Data, _ db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO settings(key, value) VALUES ('audit.head', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [value(id: id, hash: hash, key: key)])
    }

    /// `custody audit verify --key-legacy-head`: a head from before 0.12 (`id:hash`) that names the
    /// last record of an intact chain is keyed. Run once, on the stopped server, before its first
    /// 0.12 start (which would otherwise record the unkeyed head as rewritten). False when it is not one.
    static func keyLegacy(key: Data, _ db: Database) throws -> Bool {
        guard let head = try stored(db), head.split(separator: ":").count == 2,
            let last = try Row.fetchOne(db, sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"),
            head == "\(last["id"] as Int64):\(last["hash"] as String)"
        else { return false }
        try write(id: last["id"], hash: last["hash"], key: key, db)
        return true
    }
}
