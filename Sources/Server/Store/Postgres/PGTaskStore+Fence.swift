import Foundation
import Shared

/// The fence: a run's writes are refused once its task is no longer its own (claimed or taken
/// back since, by any node), so a late answer never overwrites what the node that took it decided.
extension PGTaskStore {
    /// A write for a task this node runs: refused once the task was taken from it or another node
    /// holds it, so a late answer never overwrites what a node that took the task over decided.
    func requireHeld(_ id: String, _ c: PGConnection) async throws {
        // A run that gave up its hold writes nothing more: another run may be deciding the task.
        if let run = RunningTask.current, run.id == id, run.abandoned { throw ResetStopped() }
        // A run knows its claim: any claim or take-back since (on any node) refuses its writes.
        if let run = RunningTask.current, run.id == id, run.claim != nil { return try await Self.requireClaim(run, c) }
        let row = try await c.row("SELECT claimedBy, takenFrom FROM tasks WHERE id = ? FOR UPDATE", [id])
        let holder: String? = try row?["claimedBy"]
        let takenFrom: String? = try row?["takenFrom"]
        // Not once another node claimed it, nor once it was taken back from this node (by any
        // node, this one too). A second run here cannot claim it while the first lives (`HeldTasks`).
        if (holder != nil && holder != node.id) || takenFrom == node.id {
            throw StoreError(code: .takenOver, message: "task \(id) is no longer held by node \(node.id) (held by \(holder ?? "no node"))")
        }
    }

    /// Refuses unless `run`'s claim is still its task's: no node claimed or took it back since.
    /// The holder and `takenFrom` are checked too, for nodes of a release before claim tokens.
    static func requireClaim(_ run: RunningTask, _ c: PGConnection) async throws {
        if run.abandoned { throw ResetStopped() }
        let row = try await c.row("SELECT claimedBy, takenFrom, claimToken FROM tasks WHERE id = ? FOR UPDATE", [run.id])
        let token: String? = try row?["claimToken"]
        let holder: String? = try row?["claimedBy"]
        let takenFrom: String? = try row?["takenFrom"]
        let otherHolder = run.node != nil && holder != nil && holder != run.node
        guard let claim = run.claim, token == claim, !otherHolder, takenFrom == nil || takenFrom != run.node else {
            throw StoreError(code: .takenOver, message: "task \(run.id) was claimed or taken back since this run's claim (held by \(holder ?? "no node"))")
        }
    }
}
