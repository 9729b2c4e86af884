import Foundation
import Shared

/// What a rotation does with each account, and the notices around it.
extension RotationRuns {
    /// One step per account: a reset (with the run's common password when the rotation asks for
    /// one), or skipped with the reason. One misconfigured resource is skipped whole and reported;
    /// the run and the others go on.
    static func plan(_ g: GroupRecord, _ config: RotationConfig, _ resources: [[RunCandidate]], by user: String, at: Date,
        targets: ResetTargets) throws -> [RunStep]
    {
        let notAfter = config.schedule.windowEnd(after: at)?.seconds
        var common: Secret? = nil
        if config.passwordChoice == .common, let first = resources.first(where: { !$0.isEmpty })?.first {
            common = try PasswordGenerator().generate(for: first.policy, loginName: "")
        }
        var steps: [RunStep] = []
        for accounts in resources {
            guard let first = accounts.first else { continue }
            func entry(_ c: RunCandidate) -> RotationRunRecord.Entry {
                RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id, resource: c.target.resource.name,
                    account: c.target.account.loginName)
            }
            let refs: ResetConfig
            do { refs = try targets.resolve(first.target).config } catch let error as DomainError {
                for c in accounts {
                    var e = entry(c)
                    e.skipped = error.message
                    steps.append(RunStep(entry: e))
                }
                continue
            }
            let helpers = Set([refs.loginAccount, refs.rootAccount, refs.enableAccount].compactMap { $0 })
            for c in accounts {
                var step = RunStep(entry: entry(c))
                defer { steps.append(step) }
                let a = c.target.account
                if helpers.contains(a.id) || helpers.contains(a.loginName) {
                    step.entry.skipped = "the reset config uses this account to log in or elevate"
                    continue
                }
                if c.resetUnderWay {
                    step.entry.skipped = "a reset of this account is already under way"
                    continue
                }
                if let holder = c.checkedOut {
                    step.entry.skipped = "the password is \(holder); it is reset when it is checked in"
                    step.catchUp = true
                    continue
                }
                let target: ResetTarget
                do {
                    target = try targets.resolve(c.target)
                    try target.checkLoginName()
                } catch let error as DomainError {
                    step.entry.skipped = error.message
                    continue
                }
                var t = ResetEngine.newTask(.reset, c.target, by: user, reason: "rotation of group \(g.name)", at: at)
                t.notAfter = notAfter
                if let common {
                    if let problem = target.plugin.descriptor.constraints.problem(with: common)
                        ?? c.policy.violations(of: common, loginName: a.loginName).first
                    {
                        step.entry.skipped = "the common password does not fit this account: \(problem)"
                        continue
                    }
                    t.pendingSecretId = newID()
                    t.newPasswordGiven = true
                    step.pending = common
                }
                step.task = t
            }
        }
        return steps
    }

    /// The scheduler's tick: pre-notices of rotations starting within their lead time, once per
    /// run; post-notices of runs whose every reset has ended, with one line per account.
    func sendNotices() async throws {
        let at = now()
        try await store.sendRotationNotices(at: at,
            pre: { g, saved, accounts in
                guard let pre = saved.config.preNotify, let next = saved.nextRunAt, next > at,
                    next.timeIntervalSince(at) <= Double(pre.minutesBefore) * 60
                else { return nil }
                var f = NotificationFacts(.rotationUpcoming)
                f.user = "schedule"
                f.group = g.name
                f.runAt = next
                f.report = accounts.map { "- \($0.resource) / \($0.account)" }.joined(separator: "\n")
                return Notice(f, accounts: accounts.map(\.accountId), extra: pre.recipients)
            },
            post: { view, g, saved in
                var f = NotificationFacts(.rotationCompleted)
                f.user = view.requestedBy
                f.group = g?.name ?? view.groupId
                f.run = view.id
                f.runAt = view.startedAt
                let s = view.summary
                f.status = s.failed == 0 ? "success" : "failure"
                f.message = "\(s.total) accounts: \(s.succeeded) changed, \(s.failed) failed, \(s.skipped) skipped"
                f.report = "Summary: \(f.message!)\n" + view.accounts.map { a in
                    "- \(a.resource) / \(a.account): \(a.state)" + (a.message.map { " (\($0))" } ?? "")
                }.joined(separator: "\n")
                return Notice(f, accounts: view.accounts.map(\.accountId), extra: saved?.config.postNotify?.recipients)
            })
    }
}
