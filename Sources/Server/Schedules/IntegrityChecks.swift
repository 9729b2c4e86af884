import Foundation
import Shared

/// The integrity check (PMP's nightly 1 AM check): every account with remote reset is verified
/// with its stored password. Authentication failure is out of sync; unreachable is not. The
/// engine's per-host limit spreads the load; each account is verified once per run.
struct IntegrityChecks: Sendable {
    let store: any RunStore
    let authorizer: Authorizer
    let targets: ResetTargets
    let signal: TaskSignal
    let now: @Sendable () -> Date

    /// When it runs: `dailyAt` (default 01:00) in `timeZone` (default the server's).
    func schedule() async throws -> (dailyAt: String, timeZone: String) {
        let s = try await store.integritySettings()
        return (s.dailyAt ?? "01:00", s.timeZone ?? TimeZone.current.identifier)
    }

    func saveSchedule(dailyAt: String?, timeZone: String?, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        try await store.saveIntegritySettings(dailyAt: dailyAt, timeZone: timeZone, audit: AuditEvent(user: p.username, ip: ip,
            operation: "save_settings", message: "integrity check daily at \(dailyAt ?? "(unchanged)") \(timeZone ?? "")"))
    }

    func runNow(by p: Principal) async throws -> RotationRunRecord {
        try authorizer.check(p, .manageSettings)
        guard let run = try await start(trigger: "manual", by: p.username, nightly: nil) else { throw DomainError.notFound("integrity run") }
        return run
    }

    /// The nightly run, once per day however long the server was down; returns the run started.
    @discardableResult
    func runDue() async throws -> String? {
        let at = now()
        return try await start(trigger: "nightly", by: "schedule") { settings in
            // First start: the first run is the next occurrence from now.
            guard let last = settings.lastRunAt else { return .noteOnly }
            let schedule = RotationSchedule(kind: .days, at: settings.dailyAt ?? "01:00", everyDays: 1, timeZone: settings.timeZone)
            guard let next = schedule.next(after: last, saved: last), next <= at else { return .skip }
            return .run
        }?.id
    }

    func run(_ id: String, by p: Principal) async throws -> RotationRunView {
        try authorizer.check(p, .readAudit)
        guard let view = try await store.integrityRun(id, visibleTo: p) else { throw DomainError.notFound("integrity run") }
        return view
    }

    /// Integrity runs newest first, counted over the accounts the caller sees.
    func list(trigger: String? = nil, _ req: PageRequest, by p: Principal) async throws -> Page<RunListItem> {
        try authorizer.check(p, .readAudit)
        try RunListQuery.check(req)
        return try await store.runs(.integrity, groups: nil, trigger: trigger, req, visibleTo: p)
    }

    func report(by p: Principal) async throws -> [IntegrityRow] {
        try authorizer.check(p, .readAudit)
        return try await store.integrityReport(visibleTo: p)
    }

    private func start(trigger: String, by user: String, nightly: (@Sendable (IntegritySettings) -> NightlyDecision)?) async throws
        -> RotationRunRecord?
    {
        let at = now()
        let run = try await store.startIntegrity(trigger: trigger, by: user, at: at, nightly: nightly,
            plan: { [targets] resources in
                resources.flatMap { $0 }.map { c in
                    var step = RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                        resource: c.target.resource.name, account: c.target.account.loginName))
                    if c.resetUnderWay {
                        step.entry.skipped = "a reset of this account is under way"
                    } else if c.nothingToVerify {
                        step.entry.skipped = "no password of this account is known yet (its first reset sets one)"
                    } else if c.verifyUnderWay {
                        step.entry.skipped = "a verify of this account is already under way"
                    } else {
                        do {
                            try targets.resolve(c.target).checkLoginName()
                            step.task = ResetEngine.newTask(.verify, c.target, by: user, reason: "integrity check", at: at)
                        } catch { step.entry.skipped = ResetEngine.describe(error) }
                    }
                    return step
                }
            },
            audit: { run in
                let queued = run.entries.filter { $0.taskId != nil }.count
                return AuditEvent(user: user, ip: "server", operation: "integrity_run",
                    message: "run \(run.id) (\(trigger)): \(queued) verifies queued, \(run.entries.count - queued) skipped")
            })
        if run != nil { signal.poke() }
        return run
    }
}
