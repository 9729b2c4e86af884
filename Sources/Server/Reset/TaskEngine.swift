import Foundation
import Logging
import ServiceLifecycle

/// Runs queued tasks: a bounded worker pool with a per-host limit. At start it recovers tasks a
/// crash interrupted. On graceful shutdown it stops claiming and lets running tasks finish.
struct TaskEngine: Service {
    let custody: Custody
    var tick: Duration = .seconds(1)

    func run() async throws {
        let recovered = try await custody.recoverInterrupted()
        if recovered > 0 { custody.logger.notice("reconciling interrupted tasks", metadata: ["count": "\(recovered)"]) }
        let load = Load()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let (running, hosts) = load.snapshot
                let claimed = (try? await custody.claim(limit: custody.config.resetWorkers - running, busyHosts: hosts)) ?? []
                for task in claimed {
                    load.start(task.host)
                    group.addTask {
                        await custody.execute(task)
                        load.finish(task.host)
                        custody.taskSignal.poke()
                    }
                }
                await custody.taskSignal.wait(timeout: tick)
            }
        }
    }

    /// Running tasks in all and per host.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private var hosts: [String: Int] = [:]
        var snapshot: (Int, [String: Int]) { lock.withLock { (running, hosts) } }
        func start(_ host: String) { lock.withLock { running += 1; hosts[host, default: 0] += 1 } }
        func finish(_ host: String) {
            lock.withLock {
                running -= 1
                hosts[host, default: 1] -= 1
                if hosts[host] == 0 { hosts[host] = nil }
            }
        }
    }
}
