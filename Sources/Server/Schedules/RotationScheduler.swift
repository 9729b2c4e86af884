import Foundation
import ServiceLifecycle

/// Starts the rotations that are due. Decisions use `Custody.now` (a test clock in tests, which
/// call `runDueRotations` directly); `tick` only says how often to look.
struct RotationScheduler: Service {
    let custody: Custody
    var tick: Duration = .seconds(20)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let started = try await custody.runDueRotations()
                if !started.isEmpty { custody.logger.notice("scheduled rotations started", metadata: ["runs": "\(started.count)"]) }
            } catch {
                custody.logger.error("the rotation scheduler failed a tick", metadata: ["error": "\(type(of: error))"])
            }
            // A graceful shutdown ends the wait at once, not after the tick.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
        }
    }
}
