import Foundation
import GRDB

@testable import Server

/// A store backend under the conformance suites: its repositories and the fixtures the suites
/// need that no repository offers yet. A second backend adds a case here and passes every suite.
struct StoreBackend: Sendable {
    var agents: any AgentStore
    var agentJobs: any AgentJobStore
    var outbox: any OutboxStore
    var userGroups: any UserGroupStore
    /// A user (users are not behind a repository yet).
    var addUser: @Sendable (_ id: String, _ username: String) async throws -> Void
    /// A share of some resource with a user group, and how many shares name the group.
    var shareWithGroup: @Sendable (_ groupID: String) async throws -> Void
    var groupShares: @Sendable (_ groupID: String) async throws -> Int
    /// An enrolled agent (enrollment is not behind a repository yet).
    var addAgent: @Sendable (AgentRecord) async throws -> Void
    /// The operations of the audit records, oldest first.
    var auditOperations: @Sendable () async throws -> [String]

    static let names = ["sqlite"]

    static func make(_ name: String) async throws -> StoreBackend {
        switch name {
        case "sqlite":
            let store = try await Harness.make().custody.store
            return StoreBackend(agents: store.agents, agentJobs: store.agentJobs, outbox: store.outbox, userGroups: store.userGroups,
                addUser: { id, name in
                    try await store.write { db in
                        try db.execute(sql: "INSERT INTO users(id, username, passwordHash, role, createdAt) VALUES (?, ?, 'x', 'passwordUser', 0)",
                            arguments: [id, name])
                    }
                },
                shareWithGroup: { gid in
                    try await store.write { db in
                        try db.execute(sql: """
                            INSERT INTO shares(objectKind, objectId, principalKind, principalId, permission) VALUES ('resource', ?, 'userGroup', ?, 'view')
                            """, arguments: [newID(), gid])
                    }
                },
                groupShares: { gid in
                    try await store.read { db in
                        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM shares WHERE principalKind = 'userGroup' AND principalId = ?", arguments: [gid]) ?? 0
                    }
                },
                addAgent: { a in try await store.write { db in try a.insert(db) } },
                auditOperations: { try await store.read { db in try String.fetchAll(db, sql: "SELECT operation FROM audit ORDER BY id") } })
        default: throw StoreError(code: .notFound, message: "no backend \(name)")
        }
    }

    /// An agent enrolled at `t`, its keys fixed bytes (the stores never check them).
    static func agent(_ id: String, host: String = "web01", at t: Date, revoked: Date? = nil) -> AgentRecord {
        AgentRecord(id: id, hostname: host, os: "linux", arch: "x86_64", version: "1", signingKey: Data(repeating: 1, count: 32),
            sealingKey: Data(repeating: 2, count: 32), resourceId: nil, enrolledAt: t.seconds, lastSeenAt: t.seconds,
            revokedAt: revoked?.seconds)
    }

    static func job(_ id: String, agent: String, at t: Date, queueFor: TimeInterval = 600) -> AgentJobRow {
        AgentJobRow(id: id, agentId: agent, operation: "reset", encapsulatedKey: Data([7]), ciphertext: Data([8, 9]), createdAt: t,
            queueDeadline: t.addingTimeInterval(queueFor))
    }
}
