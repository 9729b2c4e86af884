import Crypto
import Foundation
import GRDB

/// One audit record. `hash` chains it to the record before it.
struct AuditEntry: Codable, Sendable, Equatable, FetchableRecord {
    var id: Int64
    var at: Double
    var user: String
    var ip: String
    var operation: String
    var resource: String?
    var account: String?
    var reason: String?
    var ticketId: String?
    var outcome: String
    var message: String?
    var resourceId: String?
    var accountId: String?
    var prevHash: String
    var hash: String

    /// The chained digest: HMAC-SHA-256, under a key kept sealed in the vault, over the previous
    /// hash and every field, id included. Without the key nobody can recompute the chain.
    static func digest(key: Data, prev: String, id: Int64, at: Double, fields: [String?]) -> String {
        var h = HMAC<SHA256>(key: SymmetricKey(data: key))
        func add(_ part: String) {
            var part = part
            part.withUTF8 { bytes in
                withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { h.update(data: $0) }
                h.update(data: UnsafeRawBufferPointer(bytes))
            }
        }
        add(prev)
        add(String(id))
        add(stamp(at))
        for field in fields { add(field.map { "s:" + $0 } ?? "nil") }
        return h.finalize().hexString
    }

    /// `String(format: "%.6f", at)` for a time already rounded to the microsecond, without
    /// Foundation's formatter (a third of an append).
    static func stamp(_ at: Double) -> String {
        let scaled = at * 1_000_000
        // Below 4e9 s (year 2096) a microsecond count is exact in a Double; past it, the formatter.
        guard at >= 0, at < 4e9, abs(scaled - scaled.rounded()) < 0.01 else { return String(format: "%.6f", at) }
        let micros = Int64(scaled.rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    var chainFields: [String?] {
        [user, ip, operation, resource, account, reason, ticketId, outcome, message, resourceId, accountId]
    }

    static let genesis = String(repeating: "0", count: 64)
}

/// What a caller records; the log adds id, time and hashes.
struct AuditEvent: Sendable {
    var user: String
    var ip: String
    var operation: String
    var outcome: String = "success"
    var resource: String? = nil
    var account: String? = nil
    var reason: String? = nil
    var ticketId: String? = nil
    var message: String? = nil
    var resourceId: String? = nil
    var accountId: String? = nil
}
