import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// The reset state machine alone: the one place that decides definite versus unknown.
@Suite struct ResetStateMachineTests {
    let m = ResetStateMachine(maxAttempts: 3)
    static let all: [ResetFailure.Code] = [.authenticationFailed, .unreachable, .rejectedByTarget, .permissionDenied, .promptTimeout,
        .hostKeyMismatch, .protocolError, .unsupported, .outcomeUnknown]

    @Test(arguments: all)
    func afterTheNewPasswordMayHaveReachedTheTargetOnlyARefusalIsDefinite(code: ResetFailure.Code) {
        let judged = ResetStateMachine.judge(ResetFailure(code, "x"), reached: true)
        let refusal = [ResetFailure.Code.rejectedByTarget, .authenticationFailed, .permissionDenied].contains(code)
        #expect(judged.code == (refusal ? code : .outcomeUnknown), "\(code)")
        let (phase, action) = m.next(.changing, .changeFailed(ResetFailure(code, "x"), reached: true), attempts: 3, passwordGiven: false)
        if refusal {
            #expect(phase == .done && action == .fail(ResetFailure(code, "x")))
        } else {
            #expect(phase == .reconcile, "\(code) after the send goes to reconcile")
        }
    }

    @Test(arguments: all)
    func beforeTheSendEveryFailureButOutcomeUnknownIsDefinite(code: ResetFailure.Code) {
        let judged = ResetStateMachine.judge(ResetFailure(code, "x"), reached: false)
        #expect(judged.code == code)
        let (phase, _) = m.next(.changing, .changeFailed(ResetFailure(code, "x"), reached: false), attempts: 3, passwordGiven: true)
        #expect(phase == (code == .outcomeUnknown ? .reconcile : .done), "\(code)")
    }

    @Test func retriesAreBoundedAndARejectedGivenPasswordIsNotRegenerated() {
        let rejected = ResetFailure(.rejectedByTarget, "too short")
        #expect(m.next(.changing, .changeFailed(rejected, reached: true), attempts: 1, passwordGiven: false)
            == (.changing, .retry(rejected, regenerate: true, later: false)))
        #expect(m.next(.changing, .changeFailed(rejected, reached: true), attempts: 3, passwordGiven: false) == (.done, .fail(rejected)))
        #expect(m.next(.changing, .changeFailed(rejected, reached: true), attempts: 1, passwordGiven: true) == (.done, .fail(rejected)))
        let down = ResetFailure(.unreachable, "refused")
        #expect(m.next(.changing, .changeFailed(down, reached: false), attempts: 1, passwordGiven: true)
            == (.queued, .retry(down, regenerate: false, later: true)))
        #expect(m.next(.changing, .changeFailed(down, reached: false), attempts: 3, passwordGiven: true) == (.done, .fail(down)))
    }

    @Test func setupFailuresAndInterruptionsDependOnWhetherTheTargetWasTouched() {
        let f = ResetFailure(.protocolError, "config removed")
        #expect(m.next(.queued, .setupFailed(f), attempts: 0, passwordGiven: true) == (.done, .fail(f)), "nothing touched: fail, drop")
        for phase in [TaskRecord.Phase.changing, .verifying, .reconcile] {
            #expect(m.next(phase, .setupFailed(f), attempts: 1, passwordGiven: true).0 == .reconcile)
            #expect(m.next(phase, .interrupted, attempts: 1, passwordGiven: true).0 == .reconcile)
        }
        #expect(m.next(.queued, .interrupted, attempts: 0, passwordGiven: false) == (.queued, .send))
    }

    @Test func aVerifyAfterTheChangeCommitsOrReconciles() {
        #expect(m.next(.verifying, .verified(nil), attempts: 1, passwordGiven: false) == (.done, .commit))
        #expect(m.next(.verifying, .verified(.authenticationFailed), attempts: 1, passwordGiven: false).0 == .reconcile)
        #expect(m.next(.changing, .changed, attempts: 1, passwordGiven: false) == (.verifying, .verify))
    }

    @Test(arguments: all)
    func reconcileCountsOnlyAuthenticationFailedAsNotWorking(code: ResetFailure.Code) {
        #expect(ResetStateMachine.verdict(pending: .some(nil), current: code) == .pendingWorks)
        #expect(ResetStateMachine.verdict(pending: .some(code), current: nil) == (code == .authenticationFailed ? .currentWorks : .cannotTell),
            "the pending password is dropped only when the target refused it: \(code)")
        let both = ResetStateMachine.verdict(pending: .some(code), current: .authenticationFailed)
        #expect(both == (code == .authenticationFailed ? .neitherWorks : .cannotTell), "\(code)")
        let current = ResetStateMachine.verdict(pending: .some(.authenticationFailed), current: code)
        #expect(current == (code == .authenticationFailed ? .neitherWorks : .cannotTell), "\(code)")
        #expect(ResetStateMachine.verdict(pending: nil, current: code) == (code == .authenticationFailed ? .neitherWorks : .cannotTell))
    }
}
