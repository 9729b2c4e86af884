import Foundation

/// Where a reset's new password has gone. A plugin reports the moment the new password leaves
/// the process (typed into a session, handed to a child's stdin, taken by an agent); the reset
/// state machine, not the plugin, decides what a failure after that means.
///
/// It is also the transport's fault hook: tests make the reset fail just before or just after
/// the new password is sent, or during a verify.
public final class ResetExposure: @unchecked Sendable {
    private let lock = NSLock()
    private var _reached = false
    private var _hostKey: String?
    private let faults: (any ResetFaultHook)?

    public init(faults: (any ResetFaultHook)? = nil) { self.faults = faults }

    /// True once the new password may have reached the target.
    public var reached: Bool { lock.withLock { _reached } }

    /// Call right before the new password is sent.
    public func willSend() throws(ResetFailure) {
        try faults?.fault(at: .beforeSend)
    }

    /// Call as the new password is sent (before its answer is read).
    public func sent() throws(ResetFailure) {
        lock.withLock { _reached = true }
        try faults?.fault(at: .afterSend)
    }

    /// A verify of any password is about to log in.
    public func verifying() throws(ResetFailure) {
        try faults?.fault(at: .verify)
    }
}

/// The points where a fault can be injected into a reset.
public enum ResetFaultPoint: String, Sendable, CaseIterable {
    case beforeSend, afterSend, verify
}

/// Throws to inject a fault at `point`; returns to let the reset go on.
public protocol ResetFaultHook: Sendable {
    func fault(at point: ResetFaultPoint) throws(ResetFailure)
}

extension ResetExposure {
    /// Records that the new password may have reached the target, without a fault point.
    public func markReached() { lock.withLock { _reached = true } }

    /// A transport saw the target's host key with nothing pinned (first contact, verify included).
    public func learned(hostKey: String) { lock.withLock { _hostKey = _hostKey ?? hostKey } }

    /// The host key learned on first contact, to pin.
    public var hostKey: String? { lock.withLock { _hostKey } }
}
