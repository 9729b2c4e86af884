import Foundation

/// `ClusterStore` on PostgreSQL: table `nodes` (written by each node's heartbeat) and the tasks
/// each node holds.
struct PGClusterStore: ClusterStore {
    let db: PGDatabase

    func nodes() async throws -> [NodeRow] {
        try await db.read { c in
            try await c.rows("""
                SELECT n.id, n.version, n.startedAt, n.heartbeatAt,
                  (SELECT COUNT(*) FROM tasks t WHERE t.claimedBy = n.id AND t.state = 'running') AS running
                FROM nodes n ORDER BY n.id
                """).map {
                NodeRow(id: try $0["id"], version: try $0["version"], startedAt: try $0["startedAt"], heartbeatAt: try $0["heartbeatAt"],
                    runningTasks: try $0["running"])
            }
        }
    }

    func runningTasks() async throws -> Int {
        try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM tasks WHERE state = 'running'") ?? 0 }
    }

    /// Tells every listening node `payload` on `channel` (outside any transaction).
    func notify(_ channel: String, _ payload: String) async throws {
        try await db.read { c in try await c.execute("SELECT pg_notify(?, ?)", [channel, payload]) }
    }

    /// The database answers, and holds the vault under this node's master key.
    func ping() async throws {
        let canary = try await db.read { c in try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = 'canary'") }
        if db.keyGuard.active { try db.keyGuard.check(canary) }
    }
}
