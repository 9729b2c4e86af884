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
    /// It holds a long poll on the server that answered (in a cluster, it may hold one on another node).
    var longPolling = false

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

/// Wakes an agent's long poll when a job is queued for it (`signal`), and the resets waiting on its
/// jobs when one of them changes (`jobs(of:)`).
final class AgentHub: @unchecked Sendable {
    private let lock = NSLock()
    private var polls: [String: TaskSignal] = [:]
    private var changes: [String: TaskSignal] = [:]
    private var holding: [String: Int] = [:]
    /// Agents whose queue was found empty, at which poke of their signal and when.
    private var empty: [String: (generation: UInt64, at: TimeInterval)] = [:]
    /// How long an empty queue is believed without reading it again (a safety net: every path
    /// that queues a job pokes the agent's signal, on this node or through `NOTIFY`).
    let emptyFor: TimeInterval

    func signal(_ agentID: String) -> TaskSignal { lock.withLock { Self.entry(&polls, agentID) } }
    func jobs(of agentID: String) -> TaskSignal { lock.withLock { Self.entry(&changes, agentID) } }

    /// The most long polls held at once; past it a poll is answered 503 at once.
    let maxLongPolls: Int
    private var held = 0

    init(maxLongPolls: Int = 20_000, emptyFor: TimeInterval = 30) {
        self.maxLongPolls = maxLongPolls
        self.emptyFor = emptyFor
    }

    /// Long polls one agent may hold at once (its next poll may come before the server has seen
    /// the last one's connection close).
    static let perAgent = 2

    /// Runs `wait` as the agent's long poll, counted while it lasts; false (and `wait` not run)
    /// when `maxLongPolls` are held already, or `perAgent` by this agent.
    func longPoll(_ agentID: String, _ wait: () async throws -> Void) async rethrows -> Bool {
        let admitted = lock.withLock {
            guard held < maxLongPolls, holding[agentID, default: 0] < Self.perAgent else { return false }
            held += 1
            holding[agentID, default: 0] += 1
            return true
        }
        guard admitted else { return false }
        defer {
            lock.withLock {
                held -= 1
                holding[agentID, default: 1] -= 1
                if holding[agentID] == 0 { holding[agentID] = nil }
            }
        }
        try await wait()
        return true
    }

    /// Long polls held now.
    var longPolls: Int { lock.withLock { held } }

    /// False while the agent's queue is known empty: found so since the last poke of its signal,
    /// less than `emptyFor` ago. A poll then answers without reading the database.
    func mayHaveJobs(_ agentID: String, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Bool {
        let generation = signal(agentID).current
        return lock.withLock {
            guard let e = empty[agentID] else { return true }
            return e.generation != generation || now - e.at >= emptyFor
        }
    }

    /// The agent's queue was read empty after its signal was at `generation`.
    func foundEmpty(_ agentID: String, generation: UInt64, now: TimeInterval = ProcessInfo.processInfo.systemUptime) {
        lock.withLock { empty[agentID] = (generation, now) }
    }

    /// Whether the agent holds a long poll on this server now.
    func isPolling(_ agentID: String) -> Bool { lock.withLock { holding[agentID] != nil } }

    /// Wakes every poll and waiter (after notifications from other nodes may have been missed).
    func pokeAll() {
        let all = lock.withLock { Array(polls.values) + Array(changes.values) }
        for s in all { s.poke() }
    }

    private static func entry(_ table: inout [String: TaskSignal], _ id: String) -> TaskSignal {
        if let s = table[id] { return s }
        let s = TaskSignal()
        table[id] = s
        return s
    }
}
