import Foundation

/// The tasks this node's engine is running now. With several nodes, only these have their lease
/// renewed: a task the node claimed but does not run (its claim's answer was lost, its run ended
/// without a last write) lapses and is recovered like a stopped node's, never held forever.
final class HeldTasks: @unchecked Sendable {
    private let lock = NSLock()
    private var ids: Set<String> = []
    private var abandoned: Set<String> = []

    /// False when a run of the task is still here, held or given up (a second must not start).
    func insert(_ id: String) -> Bool {
        lock.withLock { abandoned.contains(id) ? false : ids.insert(id).inserted }
    }
    /// The run has returned.
    func remove(_ id: String) {
        lock.withLock {
            ids.remove(id)
            abandoned.remove(id)
        }
    }
    /// The tasks whose lease the heartbeat renews.
    var all: [String] { lock.withLock { Array(ids) } }
    /// The tasks this node must not claim: a run of each is still here.
    var running: Set<String> { lock.withLock { ids.union(abandoned) } }

    /// Gives up the hold on a run that is stuck (a store call past its deadline): the heartbeat
    /// stops renewing it, its lease lapses, and it is recovered and reconciled like a stopped
    /// node's, never claimed here again until the run returns. The run itself, if it goes on, sends
    /// nothing (`LeaseHook`) and writes nothing (`PGTaskStore.requireHeld`).
    func giveUp(_ id: String) {
        lock.withLock {
            if ids.remove(id) != nil { abandoned.insert(id) }
        }
    }

    func isAbandoned(_ id: String) -> Bool { lock.withLock { abandoned.contains(id) } }
}

/// The task the current run works on, for the store's deadline (`PGDatabase.guarded`) to name.
struct RunningTask: Sendable {
    let id: String
    let held: HeldTasks
    /// The token of the claim this run came from (`ClaimRequest.token`), and the node that claimed it.
    var claim: String? = nil
    var node: String? = nil
    @TaskLocal static var current: RunningTask?

    /// This run gave up its hold: it must neither send nor write.
    var abandoned: Bool { held.isAbandoned(id) }
}
