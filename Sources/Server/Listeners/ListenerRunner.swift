import Foundation
import ResetPlugins
import ServiceLifecycle

/// Runs queued listener runs, at most `listenerWorkers` at once, off the reset path. At start it
/// records runs a crash interrupted. On graceful shutdown it lets running ones finish (each is
/// bounded by its timeout). It is woken when a run is queued (after its commit) and when one ends;
/// `tick` is only a safety net.
struct ListenerRunner: Service {
    let custody: Custody
    var tick: Duration = .seconds(30)

    func run() async throws {
        let leftovers = ExternalProgram.removeLeftovers(in: custody.config.resolvedListenerWorkDir)
        if leftovers > 0 { custody.logger.notice("removed listener run directories left by the last stop", metadata: ["count": "\(leftovers)"]) }
        let abandoned = try await custody.listenerRuns.abandonInterrupted()
        if abandoned > 0 { custody.logger.notice("listener runs interrupted by the last stop", metadata: ["count": "\(abandoned)"]) }
        let load = TaskEngine.Load()
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let (running, _, _) = load.snapshot
                let claimed = (try? await custody.listenerRuns.claim(limit: custody.config.listenerWorkers - running)) ?? []
                for run in claimed {
                    load.start("listener", agent: false)
                    group.addTask {
                        await custody.listenerRuns.run(run)
                        load.finish("listener", agent: false)
                        custody.listenerSignal.poke()
                    }
                }
                await cancelWhenGracefulShutdown { await custody.listenerSignal.wait(timeout: tick) }
            }
        }
    }
}
