import Foundation
import NIOCore
import PostgresNIO

/// A value bound to a PostgreSQL statement. The schema mirrors SQLite's: text, 64-bit integers
/// (booleans as 0/1), double-precision seconds for times, bytea.
enum PGValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case double(Double)
    case bytes(Data)
    case null
}

/// What a statement can bind.
protocol PGBindable: Sendable {
    var pgValue: PGValue { get }
}

extension PGValue: PGBindable { var pgValue: PGValue { self } }
extension String: PGBindable { var pgValue: PGValue { .text(self) } }
extension Int: PGBindable { var pgValue: PGValue { .int(Int64(self)) } }
extension Int64: PGBindable { var pgValue: PGValue { .int(self) } }
extension Double: PGBindable { var pgValue: PGValue { .double(self) } }
extension Bool: PGBindable { var pgValue: PGValue { .int(self ? 1 : 0) } }
extension Data: PGBindable { var pgValue: PGValue { .bytes(self) } }
extension Date: PGBindable { var pgValue: PGValue { .double(timeIntervalSince1970) } }
extension Optional: PGBindable where Wrapped: PGBindable {
    var pgValue: PGValue { self?.pgValue ?? .null }
}

/// SQL written with `?` placeholders, as for SQLite, and its values. `?` inside quotes is kept.
struct PGStatement: Sendable {
    let sql: String
    let values: [PGValue]

    init(_ sql: String, _ values: [any PGBindable] = []) {
        self.sql = sql
        self.values = values.map(\.pgValue)
    }

    /// The statement with `$1`, `$2`, … and its bindings.
    var query: PostgresQuery {
        var out = ""
        var n = 0
        var quote: Character? = nil
        for c in sql {
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                n += 1
                out += "$\(n)"
            } else {
                out.append(c)
            }
        }
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .text(let s): binds.append(s)
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .bytes(let b): binds.append(ByteBuffer(bytes: b))
            case .null: binds.appendNull()
            }
        }
        return PostgresQuery(unsafeSQL: out, binds: binds)
    }

    /// `?, ?, ?` for an `IN (…)` list; one that matches nothing when `count` is 0 (`IN (NULL)`).
    /// Never use it for `NOT IN` of a list that may be empty: `NOT IN (NULL)` is never true.
    static func marks(_ count: Int) -> String {
        count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
