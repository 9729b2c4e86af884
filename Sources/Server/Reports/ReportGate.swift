import Foundation

/// At most `limit` reports read the whole vault at once on this node; the rest wait their turn, so
/// repeated requests cannot pile up copies of every table (and threads opening passwords).
actor ReportGate {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if running >= limit {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            running += 1
        }
        defer { release() }
        try Task.checkCancellation()
        return try await body()
    }

    /// Hands the place to the next waiter, or frees it.
    private func release() {
        if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
    }
}
