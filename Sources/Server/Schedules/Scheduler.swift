import Foundation
import ServiceLifecycle

/// Starts the rotations, the integrity check and the directory sync that are due, and records expired passwords. Decisions use `Custody.now` (a test
/// clock in tests, which call `RotationRuns.runDue` and `IntegrityChecks.runDue` directly); `tick` only says
/// how often to look.
struct Scheduler: Service {
    let custody: Custody
    var tick: Duration = .seconds(20)

    /// How often the expiry scan (every account) runs.
    var expiryEvery: TimeInterval = 3600

    func run() async throws {
        var lastExpiry: Date? = nil
        let startedAt = custody.now()
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let started = try await custody.rotationRuns.runDue()
                if !started.isEmpty { custody.logger.notice("scheduled rotations started", metadata: ["runs": "\(started.count)"]) }
                try await custody.rotationRuns.sendNotices()
                if let run = try await custody.integrity.runDue() { custody.logger.notice("nightly integrity check started", metadata: ["run": "\(run)"]) }
                if let sync = try await custody.directory.syncDue(with: custody.directoryImports) {
                    custody.logger.notice("directory sync ran", metadata: ["ok": "\(sync.ok)", "disabled": "\(sync.disabled.count)"])
                }
                // A failed backup is audited and notified by the service; it never stops the other jobs.
                if let backup = try? await custody.backups.runDue(startedAt: startedAt) {
                    custody.logger.notice("scheduled backup written", metadata: ["name": "\(backup.name)", "bytes": "\(backup.bytes)"])
                }
                do {
                    let alerts = try await custody.auditAlerts.scan()
                    if alerts > 0 { custody.logger.info("audit alerts raised", metadata: ["count": "\(alerts)"]) }
                } catch {
                    custody.logger.error("the audit alerts failed a tick; they catch up at the next", metadata: ["error": "\(error)"])
                }
                do {
                    if try await custody.auditAlerts.digestDue(startedAt: startedAt) { custody.logger.notice("audit digest sent") }
                } catch {
                    custody.logger.error("the audit digest failed; it is tried again at the next tick", metadata: ["error": "\(error)"])
                }
                do {
                    if let mails = try await custody.reportMailer.runDue() {
                        custody.logger.notice("scheduled report queued", metadata: ["mails": "\(mails)"])
                    }
                } catch {
                    custody.logger.error("the scheduled report failed; it is tried again at the next tick", metadata: ["error": "\(type(of: error))"])
                }
                do {
                    if let purged = try await custody.auditLifecycle.runDue(), purged.records > 0 {
                        custody.logger.notice("audit retention purged old records", metadata: ["records": "\(purged.records)"])
                    }
                } catch {
                    custody.logger.error("the audit retention purge failed; the records stay in the trail", metadata: ["error": "\(error)"])
                }
                if lastExpiry.map({ custody.now().timeIntervalSince($0) >= expiryEvery }) ?? true {
                    lastExpiry = custody.now()
                    let expired = try await custody.expiry.run()
                    if !expired.isEmpty { custody.logger.notice("passwords expired", metadata: ["count": "\(expired.count)"]) }
                }
            } catch {
                custody.logger.error("the scheduler failed a tick", metadata: ["error": "\(type(of: error))"])
            }
            // A graceful shutdown ends the wait at once, not after the tick.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: tick) }
        }
    }
}
