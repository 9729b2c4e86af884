import Foundation
import NIOConcurrencyHelpers

/// Agent request nonces seen within the replay window, in memory: a replay is refused without a
/// database read or write. The store keeps a copy (written with the request's own update) that is
/// read back on first use after a start, so a restart does not reopen the window.
final class NonceCache: Sendable {
    private struct State {
        var seen: [String: TimeInterval] = [:]
        var lastSweep: TimeInterval = 0
        var lastPrune: TimeInterval = 0
        var restored = false
    }

    let window: TimeInterval
    private let state = NIOLockedValueBox(State())

    init(window: TimeInterval) { self.window = window }

    /// True the first time `nonce` is offered within the window; false for a replay.
    func claim(_ nonce: String, at now: TimeInterval) -> Bool {
        state.withLockedValue { s in
            if now - s.lastSweep > window / 2 {
                s.seen = s.seen.filter { now - $0.value <= window }
                s.lastSweep = now
            }
            if let at = s.seen[nonce], now - at <= window { return false }
            s.seen[nonce] = now
            return true
        }
    }

    /// True once per half window: time to drop the stored copies that left the window.
    func prunesStore(at now: TimeInterval) -> Bool {
        state.withLockedValue { s in
            guard now - s.lastPrune > window / 2 else { return false }
            s.lastPrune = now
            return true
        }
    }

    /// Gives a nonce back when the request it came with was refused after the claim.
    func release(_ nonce: String) { _ = state.withLockedValue { $0.seen.removeValue(forKey: nonce) } }

    /// Before the first claim the stored copies are read back (a restart must not reopen the
    /// window); merging them twice is harmless.
    var needsRestore: Bool { state.withLockedValue { !$0.restored } }

    func restore(_ rows: [(nonce: String, at: TimeInterval)]) {
        state.withLockedValue { s in
            for r in rows { s.seen[r.nonce] = max(s.seen[r.nonce] ?? 0, r.at) }
            s.restored = true
        }
    }

    var count: Int { state.withLockedValue { $0.seen.count } }
}
