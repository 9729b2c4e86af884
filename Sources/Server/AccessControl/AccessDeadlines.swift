import Foundation
import ServiceLifecycle

/// Ends access requests at their deadlines: checkouts at `until` (checked in, and reset when the
/// rules say so), requests not approved or not checked out in time. Deadlines live in the store,
/// so a restart finds them; the decision uses `Custody.now` (a test clock in tests, which call
/// `AccessControlService.settleDue` directly). It sleeps until the next deadline, or `longest`,
/// and wakes early when a request sets a new one.
struct AccessDeadlines: Service {
    let custody: Custody
    var longest: Duration = .seconds(30)

    func run() async throws {
        let access = custody.access
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let seen = access.deadlines.current
            var wait = longest
            do {
                let ended = try await access.settleDue()
                if ended > 0 { custody.logger.notice("access requests ended at their deadline", metadata: ["count": "\(ended)"]) }
                if let next = try await access.store.nextDeadline() {
                    let seconds = max(0.05, next.timeIntervalSince(custody.now()) + 0.05)
                    wait = min(wait, .milliseconds(Int64(seconds * 1000)))
                }
            } catch {
                custody.logger.error("access deadlines failed a pass", metadata: ["error": "\(type(of: error))"])
            }
            let timeout = wait
            try? await cancelWhenGracefulShutdown { await access.deadlines.wait(after: seen, timeout: timeout) }
        }
    }
}
