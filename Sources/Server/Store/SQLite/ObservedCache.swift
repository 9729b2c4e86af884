import Foundation
import GRDB
import NIOConcurrencyHelpers

/// Records read on every request (a bearer token's caller, a polling agent), remembered until a
/// committed change to their tables through this node's pool empties the cache: SQLite itself
/// reports the change, whatever code made it. Updates that set only `ignoring` columns (an agent's
/// last contact) leave it. An entry lives `lifetime` seconds at most, for changes made by another
/// process on the same file.
final class ObservedCache<Value: Sendable>: TransactionObserver, @unchecked Sendable {
    private struct Entry {
        let value: Value
        let at: TimeInterval
    }
    private struct State {
        var entries: [String: Entry] = [:]
        var generation = 0
    }

    let tables: Set<String>
    let ignoring: Set<String>
    let lifetime: TimeInterval
    let capacity: Int
    private let state = NIOLockedValueBox(State())
    /// Touched only on the writer's connection, one transaction at a time.
    private var changed = false

    init(tables: Set<String>, ignoring: Set<String> = [], lifetime: TimeInterval = 5, capacity: Int = 20_000) {
        self.tables = Set(tables.map { $0.lowercased() })
        self.ignoring = Set(ignoring.map { $0.lowercased() })
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// Take it before reading, and give it back with what was read (`put`).
    var generation: Int { state.withLockedValue { $0.generation } }

    func get(_ key: String, now: TimeInterval = ProcessInfo.processInfo.systemUptime) -> Value? {
        state.withLockedValue { s in
            guard let e = s.entries[key], now - e.at < lifetime else { return nil }
            return e.value
        }
    }

    /// Kept only if nothing changed since `generation` was taken, before the read.
    func put(_ key: String, _ value: Value, generation: Int, now: TimeInterval = ProcessInfo.processInfo.systemUptime) {
        state.withLockedValue { s in
            guard s.generation == generation else { return }
            if s.entries.count >= capacity { s.entries.removeAll(keepingCapacity: true) }
            s.entries[key] = Entry(value: value, at: now)
        }
    }

    func clear() {
        state.withLockedValue { s in
            s.entries.removeAll()
            s.generation += 1
        }
    }

    // MARK: TransactionObserver (on the writer's connection)

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        guard tables.contains(eventKind.tableName.lowercased()) else { return false }
        if case .update(_, let columns) = eventKind, !columns.isEmpty, columns.allSatisfy({ ignoring.contains($0.lowercased()) }) {
            return false
        }
        return true
    }

    func databaseDidChange(with event: DatabaseEvent) {
        changed = true
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    // After the commit: a read that saw the old rows either put them before this (and they go
    // now) or took its generation before this (and they are refused).
    func databaseDidCommit(_ db: Database) {
        if changed { clear() }
        changed = false
    }

    func databaseDidRollback(_ db: Database) { changed = false }
}
