import Dispatch
import Shared

/// One serial queue that owns a C handle: every call on the handle runs here, so blocking C
/// code never runs on Swift's cooperative pool and the handle is never used concurrently.
final class SerialOwner: @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { cont in
            queue.async {
                do throws(E) { cont.resume(returning: .success(try body())) } catch { cont.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}
