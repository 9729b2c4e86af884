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
        let parts = [prev, String(id), String(format: "%.6f", at)] + fields.map { $0.map { "s:" + $0 } ?? "nil" }
        for part in parts {
            let bytes = Array(part.utf8)
            h.update(data: withUnsafeBytes(of: UInt64(bytes.count).bigEndian) { Data($0) })
            h.update(data: bytes)
        }
        return h.finalize().hexString
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
