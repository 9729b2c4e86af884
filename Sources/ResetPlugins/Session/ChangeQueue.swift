import Foundation
import Shared

/// Changes of one key (one device through one login) in batches: the first change to find the
/// key idle leads; changes that arrive while it works wait, and the leader takes them into its
/// batch (one session, one save) and resumes each with its own result. When the leader is done,
/// the next waiting change leads. Each change is still its own job, written ahead by the engine.
public final class ChangeQueue: @unchecked Sendable {
    public typealias Outcome = Result<ResetReport, ResetFailure>
    /// The kept session's key and the pin every change of the batch has.
    public struct BatchKey: Hashable, Sendable {
        let session: SharedSessions.Key
        let pin: String?
        public init(session: SharedSessions.Key, pin: String?) {
            self.session = session
            self.pin = pin
        }
    }
    public struct Item: Sendable {
        public let job: ResetJob
        fileprivate let id: Int
        fileprivate let resume: CheckedContinuation<Outcome?, Never>
    }

    /// Changes one batch takes at most (later ones lead the next).
    public let maxBatch: Int
    private let lock = NSLock()
    private var busy: Set<BatchKey> = []
    private var waiting: [BatchKey: [Item]] = [:]
    private var nextID = 0
    /// Changes whose run was cancelled before they joined the queue.
    private var cancelled: Set<Int> = []

    public init(maxBatch: Int = 16) { self.maxBatch = maxBatch }

    /// Runs `job` in a batch; `batch` gets the leader's job first and later ones through `more`,
    /// and returns one outcome per job it was given, in order.
    public func run(_ key: BatchKey, _ job: ResetJob,
        batch: (_ first: ResetJob, _ more: () -> [ResetJob]) async -> [Outcome]) async -> Outcome
    {
        let id = lock.withLock {
            nextID += 1
            return nextID
        }
        let given: Outcome? = await withTaskCancellationHandler {
            await withCheckedContinuation { c in
                let leads: Bool? = lock.withLock {
                    if cancelled.remove(id) != nil { return nil }
                    guard busy.contains(key) else {
                        busy.insert(key)
                        return true
                    }
                    waiting[key, default: []].append(Item(job: job, id: id, resume: c))
                    return false
                }
                switch leads {
                case true?: c.resume(returning: nil)
                case nil: c.resume(returning: .failure(Self.cancelledFailure))
                default: break
                }
            }
        } onCancel: {
            withdraw(key, id)
        }
        if let given { return given }
        // This change leads: it holds the key until it hands it on.
        var followers: [Item] = []
        let outcomes = await batch(job) { [self] in
            let taken = take(key, max: maxBatch - 1 - followers.count)
            followers += taken
            return taken.map(\.job)
        }
        for (i, f) in followers.enumerated() {
            f.resume.resume(returning: i + 1 < outcomes.count ? outcomes[i + 1] : .failure(ResetFailure(.protocolError, "the batch lost this change")))
        }
        handOn(key)
        return outcomes.first ?? .failure(ResetFailure(.protocolError, "the batch lost this change"))
    }

    static let cancelledFailure = ResetFailure(.unreachable, "the run was cancelled before this change was typed")

    /// A waiting change whose run was cancelled leaves the queue untyped (unless a leader took it,
    /// or it leads); one not queued yet is refused when it comes.
    private func withdraw(_ key: BatchKey, _ id: Int) {
        let item: Item? = lock.withLock {
            guard var list = waiting[key], let at = list.firstIndex(where: { $0.id == id }) else {
                cancelled.insert(id)  // not queued yet (or already taken: then never looked at; cancellations are few)
                return nil
            }
            let item = list.remove(at: at)
            waiting[key] = list.isEmpty ? nil : list
            return item
        }
        item?.resume.resume(returning: .failure(Self.cancelledFailure))
    }

    private func take(_ key: BatchKey, max: Int) -> [Item] {
        guard max > 0 else { return [] }
        return lock.withLock {
            guard var list = waiting[key] else { return [] }
            let out = Array(list.prefix(max))
            list.removeFirst(out.count)
            waiting[key] = list.isEmpty ? nil : list
            return out
        }
    }

    /// The next waiting change leads (told by a nil outcome), or the key is free.
    private func handOn(_ key: BatchKey) {
        let next: Item? = lock.withLock {
            guard var list = waiting[key], !list.isEmpty else {
                busy.remove(key)
                return nil
            }
            let first = list.removeFirst()
            waiting[key] = list.isEmpty ? nil : list
            return first
        }
        next?.resume.resume(returning: nil)
    }
}
