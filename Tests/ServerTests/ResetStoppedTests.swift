import Foundation
import GRDB
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// A reset whose work is cancelled (the server stopping) records nothing a cancelled step said:
/// the task stays `running` where it was, and the next start recovers it as after a crash.
@Suite struct ResetStoppedTests {
    typealias L = ListenerTests

    @Test func aCancelledResetIsLeftForRecoveryAndThenSettledByReconcile() async throws {
        // No engine worker: the test runs the claimed task itself.
        let h = try await Harness.make(configure: { $0.resetWorkers = 0; $0.agentTaskLimit = 0 })
        try await h.run { api in
            let t = try await ScriptTarget.make(api)
            try t.mode("slow")  // changes the target, then answers 1.5 s later
            let r = try await api.call(.put, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/password", token: t.env.admin,
                json: ["resetType": "remote", "newPassword": "Stopped-Pass-4321!"])
            let tid = try #require(r.object["taskId"] as? String, "\(r.text)")
            let claimed = try await h.custody.engine.claim(limit: 1, busyHosts: [:])
            let task = try #require(claimed.first { $0.id == tid })
            let custody = h.custody
            let run = Task { await custody.engine.execute(task) }
            // The script rewrites its state file: an empty read is the file mid-write, not a password.
            for _ in 0..<500 where t.password == L.old || t.password.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
            #expect(t.password == "Stopped-Pass-4321!", "the plugin changed the target")
            run.cancel()  // the server stops while the plugin has yet to answer
            await run.value
            let left = try #require(try await h.custody.store.read { db in try TaskRecord.fetchOne(db, key: tid) })
            #expect(left.state == .running && left.phase == .changing && left.pendingSecretId != nil, "left as it was: \(left.state) \(left.phase) \(String(describing: left.resultCode)) \(String(describing: left.resultMessage))")
            #expect(try await t.answer(api)["password"] as? String == L.old, "nothing committed")
            #expect(try await t.account(api)["syncStatus"] as? String != "unreachable", "no verdict on the target")
            #expect(try await h.custody.engine.recoverInterrupted() == 1)
            let recovered = try #require(try await h.custody.store.read { db in try TaskRecord.fetchOne(db, key: tid) })
            #expect(recovered.state == .unknown && recovered.phase == .reconcile)
            await h.custody.engine.execute(recovered)
            let done = try await api.call(.get, "/tasks/\(tid)", token: t.env.admin).object
            #expect(done["state"] as? String == "succeeded", "\(done)")
            #expect(try await t.holdsAWorkingPassword(api))
            #expect(try await t.answer(api)["password"] as? String == t.password, "the vault holds what the target holds")
        }
    }
}
