import Foundation
import Shared

/// Expiry: a password older than its policy's maximum age is expired. Each expiry is recorded
/// (audit `password_expired`, a notice) once per password, and reset where a group of the
/// account's resource asks for it.
struct ExpiryCheck: Sendable {
    let store: any RunStore
    let targets: ResetTargets
    let signal: TaskSignal
    let now: @Sendable () -> Date

    /// The expiry report of the accounts `p` sees: expired and expiring within `withinDays`.
    func report(by p: Principal, withinDays: Int = ExpiryReport.defaultWithin) async throws -> ExpiryReport {
        guard (0...ExpiryReport.maxWithin).contains(withinDays) else {
            throw DomainError.invalid("invalid_parameter", "within must be 0...\(ExpiryReport.maxWithin) days")
        }
        return ExpiryReport(try await store.passwordAges(visibleTo: p), at: now(), withinDays: withinDays)
    }

    /// Returns the accounts found newly expired.
    @discardableResult
    func run() async throws -> [String] {
        let at = now()
        let expired = try await store.recordExpiries(at: at) { [targets] c in
            guard let days = c.policy.maxAgeDays, days > 0, at.timeIntervalSince(c.changedAt) > Double(days) * 86400 else { return nil }
            let (r, a) = (c.target.resource, c.target.account)
            var message = "the password is older than \(days) days (policy \(c.policy.name))"
            var task: TaskRecord?
            var catchUp = false
            if c.resetOnExpiry {
                if let holder = c.checkedOut {
                    message += "; the password is \(holder): it is reset when it is checked in"
                    catchUp = true
                } else if c.resetUnderWay {
                    message += "; a reset is already under way"
                } else {
                    do {
                        try targets.resolve(c.target).checkLoginName()
                        let t = ResetEngine.newTask(.reset, c.target, by: "expiry", reason: "password expired", at: at)
                        message += "; reset queued, task \(t.id)"
                        task = t
                    } catch { message += "; no reset: \(ResetEngine.describe(error))" }
                }
            }
            var f = NotificationFacts(.passwordExpired)
            (f.resource, f.account, f.status, f.message) = (r.name, a.loginName, "expired", message)
            return ExpiryStep(audit: AuditEvent(user: "system", ip: "server", operation: "password_expired", resource: r.name,
                account: a.loginName, message: message, resourceId: r.id, accountId: a.id), notice: Notice(f, accounts: [a.id]), task: task, catchUp: catchUp)
        }
        if !expired.isEmpty { signal.poke() }
        return expired
    }
}
