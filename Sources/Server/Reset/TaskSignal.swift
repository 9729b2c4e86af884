import Foundation

/// Wakes the engine when a task is queued or finishes, and the requests that wait for a change.
final class TaskSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// Waits whose deadline passed before their waiter was registered: it must not sleep on.
    private var expired: Set<UUID> = []
    /// Counts pokes, so a waiter that read before a poke does not sleep through it.
    private var generation: UInt64 = 0

    init() {}

    var current: UInt64 { lock.withLock { generation } }

    func poke() {
        let woken: [CheckedContinuation<Void, Never>] = lock.withLock {
            generation &+= 1
            if waiters.isEmpty { pending = true }
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        woken.forEach { $0.resume() }
    }

    /// Returns when poked or after `timeout`, whichever comes first.
    func wait(timeout: Duration) async { await wait(after: nil, timeout: timeout) }

    /// Returns at once when poked since `generation` was `seen`, else as `wait(timeout:)` but
    /// leaving the engine's pending poke alone.
    func wait(after seen: UInt64?, timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow: Bool = self.lock.withLock {
                        // The deadline (or a cancellation) may have come before this waiter was registered.
                        if self.expired.remove(id) != nil { return true }
                        if let seen {
                            if self.generation != seen { return true }
                        } else if self.pending {
                            self.pending = false
                            return true
                        }
                        self.waiters[id] = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                let c: CheckedContinuation<Void, Never>? = self.lock.withLock {
                    if let c = self.waiters.removeValue(forKey: id) { return c }
                    self.expired.insert(id)
                    return nil
                }
                c?.resume()
            }
            await group.next()
            group.cancelAll()
        }
        _ = lock.withLock { expired.remove(id) }
    }
}
