import Foundation

/// A node as the store knows it: its name, version, when it started and last renewed its hold on
/// its tasks, and how many running tasks it holds.
struct NodeRow: Sendable, Equatable {
    var id: String
    var version: String
    var startedAt: Date?
    var heartbeatAt: Date?
    var runningTasks: Int
}

/// The nodes sharing the store, and whether the store answers.
protocol ClusterStore: Sendable {
    /// Every node that has renewed its hold, by name; on SQLite, none (the one node is the caller).
    func nodes() async throws -> [NodeRow]
    /// Running tasks (on SQLite, the one node holds them all).
    func runningTasks() async throws -> Int
    /// Throws when the database does not answer.
    func ping() async throws
}
