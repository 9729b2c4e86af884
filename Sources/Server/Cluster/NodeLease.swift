import Foundation
import Shared

/// This node's hold on its running tasks, as its heartbeat last renewed it (several nodes on
/// PostgreSQL). Before a new password is sent, the reset checks it: a node that has not renewed its
/// lease for half its length (the database unreachable, the node stalled) does not send, since
/// another node may be about to take the task over and reconcile it.
final class NodeLease: @unchecked Sendable {
    let seconds: Double
    private let lock = NSLock()
    private var renewed: ContinuousClock.Instant?

    init(seconds: Double) { self.seconds = seconds }

    func renew(at instant: ContinuousClock.Instant = .now) { lock.withLock { renewed = instant } }

    /// Throws (nothing sent, nothing changed) unless the lease was renewed within half its length.
    func check(at now: ContinuousClock.Instant = .now) throws(ResetFailure) {
        let last = lock.withLock { renewed }
        let half = Duration.milliseconds(Int64(seconds * 500))
        guard let last, now - last < half else {
            throw ResetFailure(.unreachable,
                "this node has not renewed its hold on its tasks for \(Int(seconds / 2)) s (its database unreachable?); the new password was not sent")
        }
    }
}

/// The transport hook that checks the node's lease right before a new password is sent, then
/// hands over to the test faults, if any.
struct LeaseHook: ResetFaultHook {
    let lease: NodeLease
    /// The run the hook was made for (taken when the engine asks for it, inside the run).
    var run: RunningTask? = RunningTask.current
    let inner: (any ResetFaultHook)?

    func fault(at point: ResetFaultPoint) throws(ResetFailure) {
        if point == .beforeSend {
            try lease.check()
            if run?.abandoned == true {
                throw ResetFailure(.unreachable, "this run gave up its hold on the task (a database call past its deadline); the new password was not sent")
            }
        }
        try inner?.fault(at: point)
    }
}
