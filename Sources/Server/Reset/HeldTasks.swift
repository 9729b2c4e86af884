import Foundation

/// The tasks this node's engine is running now. With several nodes, only these have their lease
/// renewed: a task the node claimed but does not run (its claim's answer was lost, its run ended
/// without a last write) lapses and is recovered like a stopped node's, never held forever.
final class HeldTasks: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<String> = []

    /// False when the task runs here already (a second run of it must not start).
    func insert(_ id: String) -> Bool { lock.withLock { ids.insert(id).inserted } }
    func remove(_ id: String) { _ = lock.withLock { ids.remove(id) } }
    var all: [String] { lock.withLock { Array(ids) } }
}

extension HeldTasks {
    /// Gives up the hold on a run that is stuck (a store call that never returned): the heartbeat
    /// stops renewing it, its lease lapses, and it is recovered and reconciled like a stopped
    /// node's. The stuck call itself is left behind; a late write from it is refused by the fence.
    func giveUp(_ id: String) { remove(id) }
}

/// The task the current run works on, for the store's deadline (`PGDatabase.guarded`) to name.
struct RunningTask: Sendable {
    let id: String
    let held: HeldTasks
    @TaskLocal static var current: RunningTask?
}
