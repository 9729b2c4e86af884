import Foundation

/// This server among the nodes sharing a PostgreSQL store: its name (stable across its restarts,
/// so a restarted node takes back its own running tasks at once) and how long its hold on a
/// running task lasts without a heartbeat before another node reconciles the task.
struct PGNode: Sendable {
    var id: String
    var version: String
    var leaseSeconds: Double = 30
    /// The clock leases are judged on: the database's (tests read a table they advance).
    var clockSQL: String = PGTaskStore.dbNow
}
