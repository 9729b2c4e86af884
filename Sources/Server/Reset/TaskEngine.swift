import Foundation
import Logging
import ServiceLifecycle

/// Runs queued tasks: a bounded worker pool with a per-host limit; agent tasks wait apart (parked
/// on their agent, holding no worker). At start it recovers tasks a
/// crash interrupted. On graceful shutdown it stops claiming and lets running tasks finish.
/// It is woken by every committed change to the tasks (GRDB observation) and by each task's end;
/// `tick` paces it while tasks wait for a later time (retries, reconcile back-off), and with no
/// task at all it only wakes every `idle` for the agent-job sweep.
struct TaskEngine: Service {
    let custody: Custody
    var tick: Duration = .seconds(1)
    var idle: Duration = .seconds(30)

    func run() async throws {
        let recovered = try await custody.engine.recoverInterrupted()
        if recovered > 0 { custody.logger.notice("reconciling interrupted tasks", metadata: ["count": "\(recovered)"]) }
        // No task waits on an agent job yet: what a stopped server left is ended (its reset reconciles).
        // With other nodes on the store, their tasks may wait on theirs: jobs then end by their deadlines.
        if custody.sqlite != nil {
            let orphans = try await custody.agentJobs.sweep(all: true)
            if orphans > 0 { custody.logger.notice("ended orphaned agent jobs", metadata: ["count": "\(orphans)"]) }
        }
        custody.plugins.sessions?.reopen()
        let load = Load()
        var lastSweep = ContinuousClock.now
        var claimFailing = false
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let (running, agentRunning, hosts) = load.snapshot
                var claimed: [TaskRecord] = []
                let token = newID()
                do {
                    claimed = try await custody.engine.claim(limit: custody.config.resetWorkers - running,
                        agentLimit: custody.config.agentTaskLimit - agentRunning, busyHosts: hosts, token: token)
                    if claimFailing { custody.logger.notice("claiming tasks works again") }
                    claimFailing = false
                } catch {
                    // Said once when it starts failing (the database away), not every tick.
                    if !claimFailing { custody.logger.warning("claiming tasks failed", metadata: ["error": "\(ResetEngine.describe(error))"]) }
                    claimFailing = true
                }
                for task in claimed {
                    // The claim leaves out what this node still runs; were one taken again, its run's end would
                    // not clear it (SQLite has no lease), so this is said aloud.
                    guard custody.engine.held.insert(task.id) else {
                        custody.logger.error("a task was claimed while its earlier run still ends", metadata: ["task": "\(task.id)"])
                        continue
                    }
                    let agent = task.via == "agent"
                    custody.logger.debug("task run starts", metadata: ["task": "\(task.id)", "phase": "\(task.phase.rawValue)"])
                    load.start(task.host, agent: agent)
                    group.addTask {
                        await RunningTask.$current.withValue(RunningTask(id: task.id, held: custody.engine.held, claim: token, node: custody.config.resolvedNodeName)) {
                            await custody.engine.execute(task)
                            custody.logger.debug("task run ended", metadata: ["task": "\(task.id)"])
                            // Several nodes: a run whose last write failed is recovered once the database
                            // answers (watched like the run: past the deadline it gives up its hold).
                            if custody.sqlite == nil && !Task.isShuttingDownGracefully { await custody.engine.settle(task.id) }
                        }
                        custody.engine.held.remove(task.id)
                        load.finish(task.host, agent: agent)
                        custody.logger.debug("task settled", metadata: ["task": "\(task.id)"])
                        custody.taskSignal.poke()
                    }
                }
                if ContinuousClock.now - lastSweep > .seconds(30) {
                    lastSweep = ContinuousClock.now
                    _ = try? await custody.agentJobs.sweep()
                }
                // Kept privileged sessions close once idle; while any is kept the engine wakes each tick.
                let kept = await closeIdleSessions()
                let work = (try? await custody.engine.store.hasWork()) ?? true
                // A graceful shutdown ends the wait at once, not after it.
                await cancelWhenGracefulShutdown { await custody.taskSignal.wait(timeout: work || kept ? tick : idle) }
            }
            // No new task starts: kept sessions close now, and those running tasks give back close at once.
            await custody.plugins.sessions?.closeAll()
        }
        await custody.plugins.sessions?.closeAll()
    }

    /// Closes the privileged sessions idle too long; true while some are still kept.
    private func closeIdleSessions() async -> Bool {
        guard let sessions = custody.plugins.sessions else { return false }
        await sessions.closeIdle()
        return sessions.idleSessions > 0
    }

    /// Running tasks: agentless (they hold a reset worker), agent (they wait on an agent), per host.
    final class Load: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 0
        private var agentRunning = 0
        private var hosts: [String: Int] = [:]
        var snapshot: (Int, Int, [String: Int]) { lock.withLock { (running, agentRunning, hosts) } }
        func start(_ host: String, agent: Bool) {
            lock.withLock {
                if agent { agentRunning += 1 } else { running += 1 }
                hosts[host, default: 0] += 1
            }
        }
        func finish(_ host: String, agent: Bool) {
            lock.withLock {
                if agent { agentRunning -= 1 } else { running -= 1 }
                hosts[host, default: 1] -= 1
                if hosts[host] == 0 { hosts[host] = nil }
            }
        }
    }
}
