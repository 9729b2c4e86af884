import Dispatch
import Foundation
import Shared

/// One serial queue that owns a C handle: every call on the handle runs here, so blocking C
/// code never runs on Swift's cooperative pool and the handle is never used concurrently.
///
/// Cancelling the task that waits on a call shuts the handle's socket down (`watch`): the call
/// blocked in C returns at once and so does every later one, instead of each waiting out its step.
final class SerialOwner: @unchecked Sendable {
    private let queue: DispatchQueue
    private let lock = NSLock()
    /// Our own duplicate of the watched socket: its number is never handed to anyone else, even
    /// after the library closes its descriptor, so shutting it down touches only this connection.
    private var copy: Int32 = -1
    private var cancelled = false

    init(label: String) { queue = DispatchQueue(label: label) }

    /// True once a caller was cancelled; the socket is shut down from then on.
    var isCancelled: Bool { lock.withLock { cancelled } }

    /// The socket the handle talks over, once connected (again after a reconnect).
    func watch(fd: Int32) {
        let dup = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        lock.withLock {
            if copy >= 0 { Foundation.close(copy) }
            copy = dup
            if cancelled && dup >= 0 { _ = shutdown(dup, Int32(SHUT_RDWR)) }
        }
    }

    /// Forgets the watched socket; its owner closes it next (see `closing`).
    func unwatch() {
        lock.withLock {
            if copy >= 0 { Foundation.close(copy) }
            copy = -1
        }
    }

    /// Runs `body`, which closes the handle, after forgetting the socket.
    func closing<T>(_ body: () -> T) -> T {
        unwatch()
        return body()
    }

    /// Marks the owner cancelled and shuts the watched socket down (both directions).
    func cancel() {
        lock.withLock {
            cancelled = true
            if copy >= 0 { _ = shutdown(copy, Int32(SHUT_RDWR)) }
        }
    }

    /// Runs `body` on the queue; cancelling the caller shuts the watched socket down.
    func perform<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await hop(body).0.get()
    }

    /// `perform` for reset steps: a step that failed on its connection after its caller was
    /// cancelled says so, as `unreachable` (a change that may have been sent stays in doubt). What
    /// the target said (a refusal, a host key mismatch) is kept as it is.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(ResetFailure) -> T) async throws(ResetFailure) -> T {
        let (result, cancelledBefore) = await hop(body)
        if case .failure(let error) = result, cancelledBefore, Self.connectionCodes.contains(error.code) {
            throw ResetFailure(.unreachable, "cancelled: \(error.message)")
        }
        return try result.get()
    }

    static let connectionCodes: Set<ResetFailure.Code> = [.unreachable, .protocolError, .promptTimeout]

    /// The body's result, and whether the owner was cancelled by the time it ended.
    private func hop<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async -> (Result<T, E>, Bool) {
        await withTaskCancellationHandler {
            await withCheckedContinuation { cont in
                queue.async {
                    let result: Result<T, E>
                    do throws(E) { result = .success(try body()) } catch { result = .failure(error) }
                    cont.resume(returning: (result, self.isCancelled))
                }
            }
        } onCancel: {
            cancel()
        }
    }

    deinit { if copy >= 0 { Foundation.close(copy) } }
}
