import Foundation
import Shared

/// The life of one reset (DESIGN §3) as phases and the events that move them. It is the one
/// place that decides whether a failure means "nothing changed" or "outcome unknown"; the engine
/// (`Custody+Run`, `Custody+Reconcile`) only carries out what it answers.
///
/// ```
/// queued ──setupFailed──▶ done (failed, pending dropped: nothing was touched)
///   │ pendingWritten
///   ▼
/// changing ──changed──▶ verifying ──verified(ok)──▶ done (commit)
///   │  └─changeFailed(definite)──▶ done (failed) | queued (retry) | changing (regenerate)
///   └──changeFailed(unknown)──▶ reconcile ◀──verified(failed)── verifying
/// reconcile ──pending works──▶ done (commit)   ──current works──▶ done (failed, in sync)
///           ──neither (both refused)──▶ done (out of sync, candidates kept)
///           ──cannot tell──▶ reconcile (back-off; after the retries: account unknown, alert, slow pace)
/// interrupted: queued ▶ queued; changing, verifying, reconcile ▶ reconcile
/// ```
struct ResetStateMachine: Sendable {
    typealias Phase = TaskRecord.Phase

    enum Event: Sendable {
        /// Preparing the reset failed (its reset config was removed, the plugin is gone, ...).
        case setupFailed(ResetFailure)
        case changed
        /// The plugin failed; `reached`: the new password may have reached the target.
        case changeFailed(ResetFailure, reached: Bool)
        /// The post-change verify with the new password (nil: it logs in).
        case verified(ResetFailure.Code?)
        /// The process stopped in this phase (found at start-up).
        case interrupted
    }

    enum Action: Equatable, Sendable {
        case send
        case verify
        case commit
        /// Definite: nothing changed on the target.
        case fail(ResetFailure)
        /// Definite and worth another try: later (unreachable) or now with a new password (rejected).
        case retry(ResetFailure, regenerate: Bool, later: Bool)
        case reconcile(ResetFailure)
    }

    var maxAttempts: Int

    /// Failures that are the target's own refusal, and so stay definite after the new password was sent.
    static let refusals: Set<ResetFailure.Code> = [.rejectedByTarget, .authenticationFailed, .permissionDenied]

    /// The rule: once the new password may have reached the target, only a definite refusal by the
    /// target means nothing changed; everything else is `outcomeUnknown`.
    static func judge(_ failure: ResetFailure, reached: Bool) -> ResetFailure {
        if failure.code == .outcomeUnknown || !reached || refusals.contains(failure.code) { return failure }
        return ResetFailure(.outcomeUnknown, "the new password may have reached the target (\(failure.code)): \(failure.message)")
    }

    /// Where `event` takes a reset in `phase`, and what the engine does next.
    func next(_ phase: Phase, _ event: Event, attempts: Int, passwordGiven: Bool) -> (Phase, Action) {
        switch (phase, event) {
        case (.queued, .setupFailed(let f)):
            return (.done, .fail(f))
        case (_, .setupFailed(let f)):
            return (.reconcile, .reconcile(ResetFailure(.outcomeUnknown, f.message)))
        case (.queued, .interrupted):
            return (.queued, .send)
        case (_, .interrupted):
            return (.reconcile, .reconcile(ResetFailure(.outcomeUnknown, "the server stopped during the reset")))
        case (_, .changed):
            return (.verifying, .verify)
        case (_, .changeFailed(let raw, let reached)):
            let f = Self.judge(raw, reached: reached)
            if f.code == .outcomeUnknown { return (.reconcile, .reconcile(f)) }
            if f.code == .rejectedByTarget && !passwordGiven && attempts < maxAttempts {
                return (.changing, .retry(f, regenerate: true, later: false))
            }
            if f.code == .unreachable && attempts < maxAttempts {
                return (.queued, .retry(f, regenerate: !passwordGiven, later: true))
            }
            return (.done, .fail(f))
        case (_, .verified(nil)):
            return (.done, .commit)
        case (_, .verified(let code?)):
            let f = ResetFailure(.outcomeUnknown, "the target accepted the change but the new password did not verify (\(code))")
            return (.reconcile, .reconcile(f))
        }
    }

    /// What reconcile learned from verifying the pending and the current password.
    enum Verdict: Equatable, Sendable {
        case pendingWorks, currentWorks
        /// Both were refused by the target: out of sync, both kept as candidates.
        case neitherWorks
        /// A verify could not tell (unreachable, timeout, protocol, host key, permission): try again.
        case cannotTell
    }

    /// Only `authenticationFailed` means "this password does not work"; nil means it logs in.
    static func verdict(pending: ResetFailure.Code??, current: ResetFailure.Code?) -> Verdict {
        if case .some(.none) = pending { return .pendingWorks }
        // The pending one is dropped only when the target refused it, not when its verify could not tell.
        let pendingRefused = pending == nil || pending == .some(.authenticationFailed)
        guard pendingRefused else { return .cannotTell }
        if current == nil { return .currentWorks }
        return current == .authenticationFailed ? .neitherWorks : .cannotTell
    }
}
