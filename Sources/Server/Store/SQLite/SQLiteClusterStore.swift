import Foundation
import GRDB

/// `ClusterStore` on SQLite: one node, the server itself.
struct SQLiteClusterStore: ClusterStore {
    let db: DatabasePool

    func nodes() async throws -> [NodeRow] { [] }

    func runningTasks() async throws -> Int {
        try await db.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE state = 'running'") ?? 0 }
    }

    func ping() async throws { _ = try await db.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }
}
