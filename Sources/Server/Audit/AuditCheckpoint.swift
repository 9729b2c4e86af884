import Foundation

/// Where the trail starts once older records are purged into an archive: the last purged record's
/// id and hash, kept in `settings` as `id:hash:mac` under the audit key. The chain then verifies
/// from the record after it; a checkpoint that does not authenticate is itself a break.
enum AuditCheckpoint {
    static let key = "audit.checkpoint"

    enum State: Equatable {
        case none
        case valid(id: Int64, hash: String)
        case forged
    }

    static func value(id: Int64, hash: String, key: Data) -> String {
        "\(id):\(hash):" + AuditEntry.digest(key: key, prev: hash, id: id, at: 0, fields: ["audit.checkpoint"])
    }

    static func parse(_ stored: String?, key: Data) -> State {
        guard let stored else { return .none }
        let parts = stored.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let id = Int64(parts[0]), value(id: id, hash: parts[1], key: key) == stored else { return .forged }
        return .valid(id: id, hash: parts[1])
    }
}

extension AuditVerifier.Walk {
    /// A record at or before the checkpoint: a purge removed them all, so it was put there after.
    static func belowCheckpoint(_ id: Int64) -> AuditVerifier.Result {
        AuditVerifier.Result(checked: 0, firstBad: id, problem: "record \(id) sits before the checkpoint a purge left: it was inserted afterwards")
    }

    /// A walk that starts after the checkpoint; nil with the result to report when it is forged.
    static func from(_ checkpoint: AuditCheckpoint.State, key: Data) -> (walk: AuditVerifier.Walk?, problem: AuditVerifier.Result?) {
        var walk = AuditVerifier.Walk(key: key)
        switch checkpoint {
        case .none: return (walk, nil)
        case .valid(let id, let hash):
            walk.expectedID = id + 1
            walk.prev = hash
            return (walk, nil)
        case .forged:
            return (nil, AuditVerifier.Result(checked: 0, firstBad: 1,
                problem: "the audit checkpoint (where a purge left the trail) does not authenticate: it was rewritten"))
        }
    }
}
