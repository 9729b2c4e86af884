import Foundation
import GRDB

/// An enrolled agent: its keys, where it runs and when it was last heard from.
struct AgentRecord: Codable, FetchableRecord, PersistableRecord, Sendable {
    static let databaseTableName = "agents"
    var id: String
    var hostname: String
    var os: String
    var arch: String
    var version: String
    var signingKey: Data
    var sealingKey: Data
    var resourceId: String?
    var enrolledAt: Double
    var lastSeenAt: Double
    var revokedAt: Double?
}

/// What `GET /agents` shows.
struct AgentView: Codable, Sendable {
    var id, hostname, os, arch, version, status: String
    /// The resource its bundle was made for (at enrollment).
    var resourceId: String?
    var enrolledAt, lastSeenAt: Date
    var revokedAt: Date?
    /// The resources it serves (bound by an administrator).
    var bindings: [String] = []
    /// Resources in mode agent named like its host and not bound to it: an administrator may approve them.
    var pendingBindings: [String] = []

    /// Offline after three missed poll intervals.
    init(_ a: AgentRecord, now: Date, interval: Double, bindings: [String] = [], pending: [String] = []) {
        (self.bindings, pendingBindings) = (bindings, pending)
        (id, hostname, os, arch, version, resourceId) = (a.id, a.hostname, a.os, a.arch, a.version, a.resourceId)
        enrolledAt = Date(timeIntervalSince1970: a.enrolledAt)
        lastSeenAt = Date(timeIntervalSince1970: a.lastSeenAt)
        revokedAt = a.revokedAt.map(Date.init(timeIntervalSince1970:))
        status = a.revokedAt != nil ? "revoked" : now.timeIntervalSince1970 - a.lastSeenAt > 3 * interval ? "offline" : "online"
    }
}

/// Wakes long polls when a job is queued for an agent, and job waiters when a job ends.
final class AgentHub: @unchecked Sendable {
    private let lock = NSLock()
    private var signals: [String: TaskSignal] = [:]
    let jobEnded = TaskSignal()

    func signal(_ agentID: String) -> TaskSignal {
        lock.withLock {
            if let s = signals[agentID] { return s }
            let s = TaskSignal()
            signals[agentID] = s
            return s
        }
    }
}
