import Crypto
import Foundation
import Shared

/// A logged-in session a pool can keep: a Unix shell (`KeptShell`) or a device CLI.
public protocol KeptSession: AnyObject, Sendable {
    var hostKey: String? { get }
    /// Ends a session in a known state (it may say goodbye to the target first).
    func close() async
    /// Ends a session whose state is unknown (after an error): nothing more is typed.
    func drop() async
}

extension KeptSession {
    public func drop() async { await close() }
}

/// Privileged sessions kept open between the changes of one host's accounts: one login and
/// elevation serve each change in turn. A session is leased by one change at a time; it goes back
/// only after a change that ended cleanly (any error closes it), and closes once idle for
/// `idleSeconds`, after `maxUses` changes or at `closeAll`. A key binds the host, the reset settings
/// and the login and root credentials, and a pinned host key is checked per session, so a session
/// serves only a change that could have opened it itself.
public final class SharedSessions: @unchecked Sendable {
    public struct Key: Hashable, Sendable {
        let mac: Data
    }

    /// A leased session and what its opening established.
    public final class Lease: @unchecked Sendable {
        public let opened: any KeptSession
        let key: Key
        /// Changes made through it so far (0: just opened).
        public fileprivate(set) var uses = 0
        fileprivate var idleSince = ContinuousClock.now
        fileprivate init(_ opened: any KeptSession, key: Key) {
            self.opened = opened
            self.key = key
        }
    }

    public let idleSeconds: Double
    /// Device changes batched per key (one session, one save).
    public let batches = ChangeQueue()
    public let maxUses: Int
    /// Idle sessions kept at most, all keys together (the oldest closes first).
    public let maxIdle: Int
    private let lock = NSLock()
    private var idle: [Key: [Lease]] = [:]
    private var shut = false
    private var _opened = 0
    /// Keys are MACs under a key of this process: no digest of a password outlives it.
    private let macKey = SymmetricKey(size: .bits256)

    /// `idleSeconds` 0 shares nothing: every change opens its own session.
    public init(idleSeconds: Double = 5, maxUses: Int = 100, maxIdle: Int = 64) {
        self.idleSeconds = idleSeconds
        self.maxUses = maxUses
        self.maxIdle = maxIdle
    }

    public var enabled: Bool { idleSeconds > 0 }
    /// Sessions opened through the pool since it was made.
    public var opened: Int { lock.withLock { _opened } }
    public var idleSessions: Int { lock.withLock { idleCount } }
    /// Under the lock.
    private var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// The key of a job's privileged session (nil: the job cannot share one).
    public func key(_ job: ResetJob, kind: String = "unix") -> Key? {
        guard enabled, let login = job.loginAccount else { return nil }
        var h = HMAC<SHA256>(key: macKey)
        func add(_ s: String?) {
            let bytes = Array((s ?? "\u{0}<nil>").utf8)
            h.update(data: withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { Array($0) })
            h.update(data: bytes)
        }
        // The pin is checked per session at lease (a session opened before the key was pinned serves after).
        var unpinned = job.settings
        unpinned.hostKey = nil
        guard let settings = try? Self.encoder.encode(unpinned) else { return nil }
        add(kind)
        add(job.host.lowercased())
        h.update(data: settings)
        add(login.loginName)
        add(login.password?.reveal())
        add(login.privateKey?.reveal())
        add(job.rootAccount?.loginName)
        add(job.rootAccount?.password?.reveal())
        add(job.rootAccount?.privateKey?.reveal())
        return Key(mac: Data(h.finalize()))
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// The most recently used idle session for `key` whose host key is `pin` (when one is pinned),
    /// unless `reuse` is false; otherwise one opened by `open`.
    public func lease(_ key: Key, pin: String?, reuse: Bool = true, open: () async throws(ResetFailure) -> any KeptSession)
        async throws(ResetFailure) -> Lease
    {
        if reuse, let kept = take(key, pin: pin) { return kept }
        let opened = try await open()
        lock.withLock { _opened += 1 }
        return Lease(opened, key: key)
    }

    private func take(_ key: Key, pin: String?) -> Lease? {
        let fresh = ContinuousClock.now - .seconds(idleSeconds)
        return lock.withLock {
            guard var list = idle[key],
                let at = list.lastIndex(where: { (pin == nil || $0.opened.hostKey == pin) && $0.idleSince > fresh })
            else { return nil }
            let lease = list.remove(at: at)
            idle[key] = list.isEmpty ? nil : list
            return lease
        }
    }

    /// A change (a device batch: `changes` changes) ended cleanly: the session may serve the next one.
    public func giveBack(_ lease: Lease, changes: Int = 1) async {
        lease.uses += changes
        lease.idleSince = .now
        let keep = enabled && lease.uses < maxUses
        let evicted: [any KeptSession] = lock.withLock {
            guard keep && !shut else { return [lease.opened] }
            idle[lease.key, default: []].append(lease)
            return evictOverflow()
        }
        await Self.close(evicted)
    }

    /// A change failed or was cut short: its session is never used again.
    public func discard(_ lease: Lease) async { await lease.opened.drop() }

    /// Closes the sessions idle for `idleSeconds` or longer; returns how many.
    @discardableResult
    public func closeIdle(now: ContinuousClock.Instant = .now) async -> Int {
        let limit = Duration.seconds(idleSeconds)
        let stale: [any KeptSession] = lock.withLock {
            var out: [any KeptSession] = []
            for (key, list) in idle {
                let (old, fresh) = (list.filter { now - $0.idleSince >= limit }, list.filter { now - $0.idleSince < limit })
                out += old.map(\.opened)
                idle[key] = fresh.isEmpty ? nil : fresh
            }
            return out
        }
        await Self.close(stale)
        return stale.count
    }

    /// Keeps sessions again after `closeAll` (a task engine starting again).
    public func reopen() { lock.withLock { shut = false } }

    /// Closes every idle session; one leased now closes when its change gives it back (until `reopen`).
    public func closeAll() async {
        let all: [any KeptSession] = lock.withLock {
            shut = true
            let out = idle.values.flatMap { $0.map(\.opened) }
            idle = [:]
            return out
        }
        await Self.close(all)
    }

    /// Closes sessions side by side: a host slow to say goodbye does not hold up the others.
    private static func close(_ list: [any KeptSession]) async {
        await withDiscardingTaskGroup { group in
            for s in list { group.addTask { await s.close() } }
        }
    }

    /// Called under the lock: past `maxIdle`, the longest idle go.
    private func evictOverflow() -> [any KeptSession] {
        guard idleCount > maxIdle else { return [] }
        let sorted = idle.values.flatMap { $0 }.sorted { $0.idleSince < $1.idleSince }
        let out = Array(sorted.prefix(idleCount - maxIdle))
        for lease in out {
            idle[lease.key]?.removeAll { $0 === lease }
            if idle[lease.key]?.isEmpty == true { idle[lease.key] = nil }
        }
        return out.map(\.opened)
    }
}
