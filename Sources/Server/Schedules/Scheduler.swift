import Foundation
import ServiceLifecycle

/// Starts the rotations and the integrity check that are due. Decisions use `Custody.now` (a test
/// clock in tests, which call `runDueRotations` and `runDueIntegrity` directly); `tick` only says
/// how often to look.
struct Scheduler: Service {
    let custody: Custody
    var tick: Duration = .seconds(20)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let started = try await custody.runDueRotations()
                if !started.isEmpty { custody.logger.notice("scheduled rotations started", metadata: ["runs": "\(started.count)"]) }
                if let run = try await custody.runDueIntegrity() { custody.logger.notice("nightly integrity check started", metadata: ["run": "\(run)"]) }
            } catch {
                custody.logger.error("the scheduler failed a tick", metadata: ["error": "\(type(of: error))"])
            }
            // A graceful shutdown ends the wait at once, not after the tick.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
        }
    }
}
