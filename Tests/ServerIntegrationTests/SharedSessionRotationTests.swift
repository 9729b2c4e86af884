import Foundation
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Accounts of one host reset through one shared su session, end to end on the real sshd: the
/// Trust fault rules hold for each account. A connection dropped after one account's new password
/// was typed closes the session; that account reconciles on fresh logins, the next account opens a
/// new session, and every account's vault password (or a candidate) works.
@Suite(.needsTestTargets) struct SharedSessionRotationTests {
    typealias T = TestTargets

    final class Faulty: @unchecked Sendable {
        private let lock = NSLock()
        private var aid = ""
        let fault = FaultMatrixTests.OnceFault(.afterSend)
        var account: String {
            get { lock.withLock { aid } }
            set { lock.withLock { aid = newValue } }
        }
    }

    @Test func theFaultRulesHoldForEveryAccountOfASharedSession() async throws {
        let faulty = Faulty()
        var faults = ResetFaults()
        faults.transport = { t in t.kind == .reset && t.accountId == faulty.account ? faulty.fault : nil }
        let h = try await Harness.make(faults: faults) {
            $0.resetPerHostLimit = 1  // one after another, so each change finds the session the last one gave back
            $0.resetSessionIdleSeconds = 60
            $0.resetRetrySeconds = 0
        }
        try await h.run { api in
            let tag = UUID().uuidString.prefix(4).lowercased()
            let first = try await ResetEngineTests.setup(api, target: "sr1_\(tag)", password: "Sr-Old-Pass-1")
            var accounts = [(first.aid, first.user, "Sr-Old-Pass-1")]
            for i in 2...4 {
                let user = T.target("sr\(i)_\(tag)", password: "Sr-Old-Pass-\(i)")
                accounts.append((try await api.account(first.rid, user, password: "Sr-Old-Pass-\(i)", token: first.admin), user, "Sr-Old-Pass-\(i)"))
            }
            faulty.account = accounts[2].0
            var tasks: [String] = []
            for (aid, _, _) in accounts {
                let q = try await api.call(.put, "/resources/\(first.rid)/accounts/\(aid)/password", token: first.admin, json: ["resetType": "remote"])
                tasks.append(try #require(q.object["taskId"] as? String, "\(q.text)"))
            }
            var states: [String] = []
            for id in tasks { states.append(try await Fixtures.waitTask(api, id, token: first.admin)["state"] as? String ?? "?") }
            #expect(faulty.fault.didFire)
            for (i, (aid, user, old)) in accounts.enumerated() {
                let answer = try await api.call(.get, "/resources/\(first.rid)/accounts/\(aid)/password", token: first.admin).object
                let current = answer["password"] as? String ?? ""
                let candidates = (answer["candidates"] as? [[String: Any]] ?? []).compactMap { $0["password"] as? String }
                #expect(T.passwordWorks(user, current) || candidates.contains { T.passwordWorks(user, $0) }, "account \(i + 1): \(states[i])")
                if i != 2 {
                    #expect(states[i] == "succeeded", "account \(i + 1)")
                    #expect(current != old && T.passwordWorks(user, current), "account \(i + 1) has its new password")
                }
            }
            // Accounts 1–3 shared the first session; the fault closed it; account 4 opened the second.
            #expect(h.custody.plugins.sessions?.opened == 2)
        }
    }

    /// Three accounts of one IOS device reset together; the device drops the session after each
    /// change is applied. Each account's change reached the device, so each is reconciled on fresh
    /// logins; the batch's save still runs (in a new session), and every account ends with the
    /// vault's password in both the running and the startup configuration.
    @Test(.needs("the device emulators", DeviceEmulator.available))
    func aDeviceBatchWhoseSessionDropsAfterEachChangeLeavesEveryAccountWorkingAndSaved() async throws {
        let users = ["helpdesk:Help-Pass-1:1"] + (1...3).map { "ops\($0):Ops-Start-\($0):1" }
        let emu = try DeviceEmulator(family: "ios", users: users, flags: ["--enable-secret", "Enable-Secret-1", "--drop-after-change"])
        defer { emu.stop() }
        try await Harness.make(configure: { $0.resetRetrySeconds = 0.2 }).run { api in
            let (admin, rid, _) = try await NetworkDeviceServerTests.setup(api, emu)
            var aids: [String] = []
            for i in 1...3 { aids.append(try await api.account(rid, "ops\(i)", password: "Ops-Start-\(i)", token: admin)) }
            var tasks: [String] = []
            for aid in aids {
                let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
                tasks.append(try #require(q.object["taskId"] as? String, "\(q.text)"))
            }
            for (i, id) in tasks.enumerated() {
                let t = try await Fixtures.waitTask(api, id, token: admin)
                #expect(t["state"] as? String == "succeeded", "ops\(i + 1): \(t)")
                let now = try await NetworkDeviceServerTests.stored(api, admin, rid, aids[i])
                #expect(now != "Ops-Start-\(i + 1)")
                #expect(emu.password("ops\(i + 1)") == now && emu.password("ops\(i + 1)", in: "startup") == now, "ops\(i + 1)")
            }
        }
    }
}
