import Foundation
import Logging
import PostgresNIO

/// Ends the statements of a connection that closed. postgres-nio 1.33 hands a statement to its
/// channel without a write promise: on a channel that closed (the server shut down) the write is
/// dropped and the statement waits forever. Seen in the outage tests as BEGIN and ROLLBACK that
/// never returned. Each statement waits here instead, and fails as `StoreUnavailable` once its
/// connection closes; one close callback per connection, removed when it fires.
final class PGCloseWatch: @unchecked Sendable {
    static let shared = PGCloseWatch()
    private let lock = NSLock()
    private var waiting: [ObjectIdentifier: [Int: Waiter]] = [:]
    private var next = 0

    /// Runs `op` (one statement on `connection`): its answer, or `StoreUnavailable` if the
    /// connection closes first. A statement left waiting by the driver is abandoned (an unstructured
    /// task, since it never ends: nothing else can be awaited for it).
    func run<T: Sendable>(on connection: PostgresConnection, logger: Logger? = nil, _ op: @escaping @Sendable () async throws -> T) async throws -> T {
        let key = ObjectIdentifier(connection)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let waiter = Waiter { continuation.resume(with: $0.map { $0 as! T }) }
            let (id, first) = lock.withLock { () -> (Int, Bool) in
                next += 1
                let first = waiting[key] == nil
                waiting[key, default: [:]][next] = waiter
                return (next, first)
            }
            if first { connection.closeFuture.whenComplete { _ in self.closed(key) } }
            Task {
                // A connection seen for the first time gets its keepalive and user timeout.
                if first { await PGSocketOptions.apply(to: connection, logger: logger) }
                let result: Result<any Sendable, any Error>
                do { result = .success(try await op()) } catch { result = .failure(error) }
                _ = self.lock.withLock { self.waiting[key]?.removeValue(forKey: id) }
                waiter.resume(result)
            }
        }
    }

    private func closed(_ key: ObjectIdentifier) {
        let left = lock.withLock { waiting.removeValue(forKey: key) ?? [:] }
        for w in left.values { w.resume(.failure(StoreUnavailable("the connection to PostgreSQL closed"))) }
    }

    /// Resumes its continuation once, whichever comes first.
    private final class Waiter: @unchecked Sendable {
        private let lock = NSLock()
        private var done = false
        private let body: (Result<any Sendable, any Error>) -> Void
        init(_ body: @escaping (Result<any Sendable, any Error>) -> Void) { self.body = body }
        func resume(_ r: Result<any Sendable, any Error>) {
            let first = lock.withLock { () -> Bool in
                defer { done = true }
                return !done
            }
            if first { body(r) }
        }
    }
}
