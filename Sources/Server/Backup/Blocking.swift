import Foundation

/// Blocking work (a database copied page by page, a large file sealed frame by frame) on a thread
/// of its own: the cooperative pool has one thread per core and must never wait on it.
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { c in
            let thread = Thread { c.resume(with: Result { try body() }) }
            thread.start()
        }
    }
}
