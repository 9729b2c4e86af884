import ServiceLifecycle

/// Delivers queued notifications: woken when one is queued, and every `tick` for retries.
struct NotificationSender: Service {
    let custody: Custody
    var tick: Duration = .seconds(15)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await custody.delivery.deliverDue() } catch {
                custody.logger.error("notification delivery stopped a round", metadata: ["error": "\(ResetEngine.describe(error))"])
            }
            await cancelWhenGracefulShutdown { await custody.notifySignal.wait(timeout: tick) }
        }
    }
}
