import Foundation
import NIOConcurrencyHelpers

/// Failed logins, counted in memory before any bcrypt or database write. Three windows: per client
/// address, per user name at that address (the lock-out), and per user name from anywhere (a high
/// cap against guessing from many addresses, which never shuts out an address the name signed in
/// from lately). Attempts in flight count, so parallel guesses cannot slip past a limit. IPv6
/// addresses count by /64. A refused attempt allocates nothing.
final class LoginThrottle: Sendable {
    struct Limits: Sendable {
        var perAddress: Int
        var perNameAtAddress: Int
        var perName: Int
        var window: TimeInterval
        /// How long a successful sign-in exempts its name and address from the per-name cap.
        var trustedFor: TimeInterval = 30 * 86400
        /// Counters kept at most; past it new keys are refused until the sweep frees some.
        var maxCounters = 200_000
    }

    enum Refusal: Error, Sendable, Equatable {
        /// Too many failures from this address; `retryAfter` seconds.
        case address(retryAfter: Int)
        /// The name is locked at this address (or everywhere, after `perName` failures).
        case name(retryAfter: Int)
    }

    enum Outcome: Sendable { case failed, succeeded, neither }

    /// One admitted attempt; `finish` settles it.
    struct Ticket: Sendable { let address, name: String }

    private struct Counter {
        var failures: [TimeInterval] = []
        var inFlight = 0
        mutating func prune(before: TimeInterval) { failures.removeAll { $0 < before } }
        func load(since: TimeInterval) -> Int { failures.filter { $0 >= since }.count + inFlight }
    }

    private struct State {
        var counters: [String: Counter] = [:]
        /// name@address → last successful sign-in.
        var trusted: [String: TimeInterval] = [:]
        var lastSweep: TimeInterval = 0
        var restored = false
    }

    let limits: Limits
    private let state = NIOLockedValueBox(State())
    private let gate = RestoreGate()

    init(_ limits: Limits) { self.limits = limits }

    /// The address as counted: IPv4 and other names whole, IPv6 by its /64.
    static func network(_ address: String) -> String {
        var v6 = in6_addr()
        guard address.contains(":"), inet_pton(AF_INET6, address, &v6) == 1 else { return address }
        let bytes = withUnsafeBytes(of: &v6) { Array($0.prefix(8)) }
        return stride(from: 0, to: 8, by: 2).map { String(format: "%x", Int(bytes[$0]) << 8 | Int(bytes[$0 + 1])) }.joined(separator: ":") + "::/64"
    }

    private static func keys(_ t: Ticket) -> (address: String, pair: String, name: String) {
        ("a:" + t.address, "p:" + t.name + "@" + t.address, "n:" + t.name)
    }

    /// Admits an attempt or refuses it; refusals cost nothing but this lock.
    func admit(name: String, address: String, at now: TimeInterval) throws(Refusal) -> Ticket {
        let t = Ticket(address: Self.network(address), name: name)
        let k = Self.keys(t)
        let since = now - limits.window
        let refusal: Refusal? = state.withLockedValue { s in
            if now - s.lastSweep > limits.window / 4 || s.counters.count >= limits.maxCounters {
                s.counters = s.counters.compactMapValues { c in
                    var c = c
                    c.prune(before: since)
                    return c.failures.isEmpty && c.inFlight == 0 ? nil : c
                }
                s.trusted = s.trusted.filter { now - $0.value <= limits.trustedFor }
                s.lastSweep = now
            }
            func load(_ key: String) -> Int { s.counters[key]?.load(since: since) ?? 0 }
            func retry(_ key: String) -> Int {
                let oldest = s.counters[key]?.failures.first { $0 >= since } ?? now
                return max(1, Int((oldest + limits.window - now).rounded(.up)))
            }
            if load(k.address) >= limits.perAddress { return .address(retryAfter: retry(k.address)) }
            if load(k.pair) >= limits.perNameAtAddress { return .name(retryAfter: retry(k.pair)) }
            let trusted = s.trusted[k.pair].map { now - $0 <= limits.trustedFor } ?? false
            if !trusted, load(k.name) >= limits.perName { return .name(retryAfter: retry(k.name)) }
            let fresh = [k.address, k.pair, k.name].filter { s.counters[$0] == nil }.count
            if s.counters.count + fresh > limits.maxCounters { return .address(retryAfter: max(1, Int(limits.window / 4))) }
            for key in [k.address, k.pair, k.name] { s.counters[key, default: Counter()].inFlight += 1 }
            return nil
        }
        if let refusal { throw refusal }
        return t
    }

    /// Settles an admitted attempt: a failure is counted in all three windows, a success clears the
    /// name at this address and trusts the pair; `neither` (a right password still needing its
    /// code) only ends it. True when this failure locked the name at this address.
    @discardableResult
    func finish(_ t: Ticket, _ outcome: Outcome, at now: TimeInterval) -> Bool {
        let k = Self.keys(t)
        return state.withLockedValue { s in
            for key in [k.address, k.pair, k.name] {
                s.counters[key, default: Counter()].inFlight = max(0, (s.counters[key]?.inFlight ?? 1) - 1)
                if outcome == .failed { s.counters[key]!.failures.append(now) }
            }
            if outcome == .succeeded {
                s.counters[k.pair] = nil
                s.trusted[k.pair] = now
            }
            let failures = s.counters[k.pair]?.failures.filter { $0 >= now - limits.window }.count ?? 0
            return outcome == .failed && failures == limits.perNameAtAddress
        }
    }

    /// A failure or sign-in recorded through another node (several nodes on PostgreSQL), by the
    /// name digest and address network it was stored with (`LoginNotices`). Before the stored
    /// failures were read back (`restore`) nothing is counted: that read includes it.
    func heard(_ outcome: Outcome, name: String, address: String, at: TimeInterval) {
        let k = Self.keys(Ticket(address: address, name: name))
        state.withLockedValue { s in
            guard s.restored else { return }
            switch outcome {
            case .failed: Self.add(at, k, &s, times: 1, limit: limits.maxCounters)
            case .succeeded:
                // Failures up to the sign-in are forgiven at that address, not later ones.
                s.counters[k.pair]?.failures.removeAll { $0 <= at }
                if s.trusted[k.pair] != nil || s.trusted.count < limits.maxCounters { s.trusted[k.pair] = max(s.trusted[k.pair] ?? 0, at) }
            case .neither: break
            }
        }
    }

    /// Counts `times` failures at `at` in the three windows, in time order; bounded as this node's
    /// own counters are (the sweep frees them).
    private static func add(_ at: TimeInterval, _ k: (address: String, pair: String, name: String), _ s: inout State, times: Int, limit: Int) {
        guard times > 0 else { return }
        if s.counters[k.pair] == nil && s.counters.count + 3 > limit { return }
        for key in [k.address, k.pair, k.name] {
            s.counters[key, default: Counter()].failures += Array(repeating: at, count: times)
            s.counters[key]!.failures.sort()
        }
    }

    /// The failures stored by every node, merged in after this node's notification connection was
    /// away: per name and address, what the store holds at an instant beyond what is counted here.
    func merge(failures: Attempts) {
        state.withLockedValue { s in
            guard s.restored else { return }
            var stored: [String: [TimeInterval: Int]] = [:]
            var keys: [String: (address: String, pair: String, name: String)] = [:]
            for f in failures {
                let k = Self.keys(Ticket(address: Self.network(f.address), name: f.name))
                stored[k.pair, default: [:]][f.at, default: 0] += 1
                keys[k.pair] = k
            }
            for (pair, times) in stored {
                let counted = s.counters[pair]?.failures ?? []
                for (at, n) in times { Self.add(at, keys[pair]!, &s, times: n - counted.filter { $0 == at }.count, limit: limits.maxCounters) }
            }
        }
    }

    /// Failures counted for `name` (its digest) at `address` within the window ending `at`.
    func failures(name: String, address: String, at: TimeInterval) -> Int {
        let pair = Self.keys(Ticket(address: Self.network(address), name: name)).pair
        return state.withLockedValue { $0.counters[pair]?.failures.filter { $0 >= at - limits.window }.count ?? 0 }
    }

    /// Failures and sign-ins read back at start, so a restart neither reopens a lock nor shuts out
    /// an address its user signed in from.
    func restore(failures: [(name: String, address: String, at: TimeInterval)], signIns: [(name: String, address: String, at: TimeInterval)]) {
        state.withLockedValue { s in
            for f in failures.sorted(by: { $0.at < $1.at }) {
                let k = Self.keys(Ticket(address: Self.network(f.address), name: f.name))
                for key in [k.address, k.pair, k.name] { s.counters[key, default: Counter()].failures.append(f.at) }
            }
            for i in signIns {
                let pair = Self.keys(Ticket(address: Self.network(i.address), name: i.name)).pair
                s.trusted[pair] = max(s.trusted[pair] ?? 0, i.at)
            }
            s.restored = true
        }
    }

    /// True until the stored failures and sign-ins were read back (`restoreOnce`).
    var needsRestore: Bool { state.withLockedValue { !$0.restored } }

    typealias Attempts = [(name: String, address: String, at: TimeInterval)]

    /// Reads back what `load` gives, once: callers that come meanwhile wait for the same read, and
    /// a read that failed is tried again by the next caller.
    func restoreOnce(_ load: @escaping @Sendable () async throws -> (failures: Attempts, signIns: Attempts)) async throws {
        try await gate.run { [self] in
            guard needsRestore else { return }
            let (failures, signIns) = try await load()
            restore(failures: failures, signIns: signIns)
        }
    }
}

/// Runs a body once at a time until it has succeeded once; later callers return at once.
private actor RestoreGate {
    private var done = false
    private var running: Task<Void, any Error>?

    func run(_ body: @escaping @Sendable () async throws -> Void) async throws {
        if done { return }
        if let running { return try await running.value }
        let task = Task { try await body() }
        running = task
        defer { running = nil }
        try await task.value
        done = true
    }
}
