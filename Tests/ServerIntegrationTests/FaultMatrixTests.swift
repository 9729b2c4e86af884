import Foundation
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Trust I's proof: every plugin family × every failure point, against the real servers and
/// emulators. Whatever happens, the vault's current password works on the target, or one of the
/// candidates does. Never neither. Each case prints one `MATRIX` line for the README's table.
@Suite(.serialized) struct FaultMatrixTests {
    enum Point: String, CaseIterable, Sendable {
        case beforeSend, afterSend, verify, crashAfterPending, crashAfterChange, crashAfterVerify
        var crash: ResetFaults.CrashPoint? {
            switch self {
            case .crashAfterPending: .afterPending
            case .crashAfterChange: .afterChange
            case .crashAfterVerify: .afterVerify
            default: nil
            }
        }
        var transport: ResetFaultPoint? { ResetFaultPoint(rawValue: rawValue) }
    }

    /// Fails the reset once at one point, as a dropped connection there would.
    final class OnceFault: ResetFaultHook, @unchecked Sendable {
        let point: ResetFaultPoint
        private let lock = NSLock()
        private var fired = false
        init(_ point: ResetFaultPoint) { self.point = point }
        var didFire: Bool { lock.withLock { fired } }
        func fault(at p: ResetFaultPoint) throws(ResetFailure) {
            guard p == point, lock.withLock({ () -> Bool in defer { fired = true }; return !fired }) else { return }
            switch p {
            case .beforeSend: throw ResetFailure(.unreachable, "injected: the connection dropped before the new password was sent")
            case .afterSend: throw ResetFailure(.protocolError, "injected: the connection dropped after the new password was sent")
            case .verify: throw ResetFailure(.unreachable, "injected: the verify could not connect")
            }
        }
    }

    /// Set when the engine "died" at the crash point.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    struct Outcome: Sendable {
        var state = "?", code = "?", text = ""
        init() {}
        init(_ t: [String: Any]) {
            state = t["state"] as? String ?? "?"
            code = (t["result"] as? [String: Any])?["code"] as? String ?? "?"
            text = "\(t)"
        }
    }

    static let cases: [(MatrixFamily, Point)] = MatrixFamily.allCases.flatMap { f in Point.allCases.map { (f, $0) } }

    @Test(arguments: cases)
    func theVaultAlwaysHoldsAPasswordThatWorks(family: MatrixFamily, point: Point) async throws {
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-matrix-\(UUID().uuidString)").path
        let fault = point.transport.map(OnceFault.init)
        let crashed = Flag()
        var faults = ResetFaults()
        faults.transport = { t in t.kind == .reset ? fault : nil }
        if let crash = point.crash {
            faults.crashAt = { t, at in
                guard at == crash, !crashed.isSet else { return false }
                crashed.set()
                return true
            }
        }
        let configure: (inout ServerConfiguration) -> Void = {
            $0.resetRetrySeconds = 0
            $0.agentLeaseSeconds = 5
        }
        let h = try await Harness.make(dataDir: dir, faults: faults, configure: configure)
        let target = try await h.run { api in try await family.prepare(api, h) }
        guard let target else { return }
        defer { target.stop() }
        let (taskID, first) = try await h.run { api -> (String, Outcome?) in
            let agent = target.startAgent(api)
            defer { agent?.cancel() }
            let q = try await api.call(.put, "/resources/\(target.rid)/accounts/\(target.aid)/password", token: target.admin,
                json: ["resetType": "remote"])
            let id = try #require(q.object["taskId"] as? String, "\(family): \(q.text)")
            guard point.crash != nil else { return (id, Outcome(try await Fixtures.waitTask(api, id, token: target.admin))) }
            for _ in 0..<600 where !crashed.isSet { try await Task.sleep(for: .milliseconds(50)) }
            #expect(crashed.isSet, "\(family) \(point): the crash point was reached")
            return (id, nil)
        }
        var result = first ?? Outcome()
        if point.crash != nil {
            // The server is started again on the same data directory: it finds the task and reconciles it.
            let restarted = try await Harness.make(dataDir: dir, configure: configure)
            result = try await restarted.run { api in
                let agent = target.startAgent(api)
                defer { agent?.cancel() }
                let token = try await Fixtures.login(api)
                return Outcome(try await Fixtures.waitTask(api, taskID, token: token))
            }
        }
        if let fault { #expect(fault.didFire, "\(family) \(point): the fault fired") }
        let (state, code) = (result.state, result.code)
        #expect(["succeeded", "failed"].contains(state), "\(family) \(point): the reset settled: \(result.text)")
        let check = try await Harness.make(dataDir: dir, configure: configure)
        let (current, candidates) = try await check.run { api -> (String, [String]) in
            let token = try await Fixtures.login(api)
            let answer = try await api.call(.get, "/resources/\(target.rid)/accounts/\(target.aid)/password", token: token).object
            return (answer["password"] as? String ?? "", (answer["candidates"] as? [[String: Any]] ?? []).compactMap { $0["password"] as? String })
        }
        let holds = target.works(current) || candidates.contains(where: target.works)
        #expect(holds, "\(family) \(point): neither the vault's password nor a candidate works (\(state) \(code))")
        print("MATRIX \(family.rawValue) \(point.rawValue) \(state) \(code) \(target.works(current) ? "current-works" : "candidate-works")")
    }
}
