import Foundation
import GRDB
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// Trust I: the paths that used to lose a working password, each through the real engine and a
/// scripted target whose state (a file) is checked after the reset.
@Suite struct TrustResetTests {
    typealias L = ListenerTests

    /// Each of these changed the target and then misbehaved: `protocolError` used to drop the pending password.
    @Test(arguments: ["crash", "garbage", "oversize", "nonzero", "unknown-code"])
    func aCustomPluginThatChangedTheTargetAndThenMisbehavedIsReconciledNotLost(mode: String) async throws {
        try await Harness.make().run { api in
            let t = try await ScriptTarget.make(api)
            try t.mode(mode)
            let task = try await t.reset(api)
            #expect(t.password != L.old, "the script changed the target")
            #expect(task["state"] as? String == "succeeded", "\(mode): \(task)")
            #expect((task["result"] as? [String: Any])?["message"] as? String == "reconciled: the new password works on the target", "\(mode)")
            #expect(try await t.answer(api)["password"] as? String == t.password, "\(mode): the vault holds what the target holds")
            #expect((try await t.answer(api)["candidates"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aDefiniteRefusalAfterTheSendDropsThePendingPassword() async throws {
        try await Harness.make().run { api in
            let t = try await ScriptTarget.make(api)
            try t.mode("refuse")
            let task = try await t.reset(api, new: "Given-Pass-9876!")
            #expect(task["state"] as? String == "failed" && (task["result"] as? [String: Any])?["code"] as? String == "rejectedByTarget", "\(task)")
            #expect(t.password == L.old)
            let answer = try await t.answer(api)
            #expect(answer["password"] as? String == L.old && (answer["candidates"] as? [Any])?.isEmpty == true, "\(answer)")
        }
    }

    /// Reconcile that cannot tell which password works keeps both retrievable, retries with
    /// back-off, then marks the account unknown, alerts once, and settles when the target answers.
    @Test func anUnresolvedResetKeepsItsCandidateRetrievableUntilAVerifySettlesIt() async throws {
        let h = try await Harness.make(configure: {
            $0.resetRetrySeconds = 0
            $0.reconcileRetries = 2
            $0.reconcileSlowSeconds = 3600
        })
        try await h.run { api in
            let t = try await ScriptTarget.make(api)
            try t.mode("verify-unreachable")
            let r = try await api.call(.put, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/password", token: t.env.admin,
                json: ["resetType": "remote", "newPassword": "Cand-Pass-5678!"])
            let tid = try #require(r.object["taskId"] as? String)
            var account: [String: Any] = [:]
            for _ in 0..<100 {
                account = try await t.account(api)
                let audit = try await api.call(.get, "/audit?accountId=\(t.env.aid)", token: t.env.admin).array
                if audit.contains(where: { $0["operation"] as? String == "reconcile_unresolved" }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(account["syncStatus"] as? String == "unknown", "\(account)")
            let task = try await api.call(.get, "/tasks/\(tid)", token: t.env.admin).object
            #expect(task["state"] as? String == "unknown" && task["phase"] as? String == "reconcile", "\(task)")
            let answer = try await t.answer(api)
            let candidates = try #require(answer["candidates"] as? [[String: Any]])
            #expect(answer["password"] as? String == L.old)
            #expect(candidates.map { $0["password"] as? String } == [t.password], "the password the target now holds is retrievable")
            #expect((candidates.first?["origin"] as? String ?? "").contains(tid) && candidates.first?["createdAt"] != nil)
            let audit = try await api.call(.get, "/audit?accountId=\(t.env.aid)&operation=retrieve_password", token: t.env.admin).array
            #expect(audit.contains { ($0["message"] as? String ?? "").contains("1 candidate") }, "a retrieval with candidates is audited so")
            // The console shows the candidate beside the current password, on the same audited reveal.
            let b = Browser(api.client)
            _ = try await b.signIn("admin", API.adminPassword)
            let page = "/resources/\(t.env.rid)/accounts/\(t.env.aid)"
            let csrf = Browser.csrf(try await b.go(.get, page).html)
            let shown = try await b.go(.post, page + "/reveal", form: ["_csrf": csrf])
            #expect(shown.html.contains(">\(L.old)<") && shown.html.contains("class=\"secret candidate\""), "\(shown.status)")
            #expect(shown.html.contains(">\(t.password)<") && shown.html.contains(tid), "the candidate and the task it came from")
            #expect(try await api.call(.post, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/verify", token: t.env.admin).errorCode
                == "reset_in_progress")
            #expect(try await api.call(.delete, "/resources/\(t.env.rid)/accounts/\(t.env.aid)", token: t.env.admin).errorCode
                == "reset_in_progress", "an account under reset is not deleted")
            let local = try await api.call(.put, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/password", token: t.env.admin,
                json: ["resetType": "local", "newPassword": "Local-Pass-4321!"])
            #expect(local.errorCode == "reset_in_progress")
            // The target answers again; the slow pace is skipped to see the settle.
            try t.mode("normal")
            try await h.custody.store.write { db in try db.execute(sql: "UPDATE tasks SET notBefore = 0 WHERE id = ?", arguments: [tid]) }
            h.custody.taskSignal.poke()
            let done = try await Fixtures.waitTask(api, tid, token: t.env.admin)
            #expect(done["state"] as? String == "succeeded", "\(done)")
            let settled = try await t.answer(api)
            #expect(settled["password"] as? String == t.password && (settled["candidates"] as? [Any])?.isEmpty == true)
            #expect(try await t.account(api)["syncStatus"] as? String == "inSync")
        }
    }

    /// A reset still in phase `queued` (nothing touched) whose reset config is gone fails and drops its pending password.
    @Test func aResetThatNeverTouchedTheTargetFailsAndDropsItsPending() async throws {
        let h = try await Harness.make()
        let t = try await h.run { api in try await ScriptTarget.make(api) }
        let tid = try await h.custody.store.write { db -> String in
            let r = try #require(try ResourceRecord.fetchOne(db, key: t.env.rid))
            let a = try #require(try AccountRecord.fetchOne(db, key: t.env.aid))
            var task = try h.custody.newTask(.reset, r, a, by: "admin", reason: nil, db)
            let sid = newID()
            try h.custody.secrets.writePending(Secret("Given-Never-Sent-1!"), id: sid, account: a.id, by: "admin", at: Date(), task: task.id, db)
            task.pendingSecretId = sid
            task.newPasswordGiven = true
            try task.insert(db)
            try db.execute(sql: "DELETE FROM resetConfigs WHERE resourceId = ?", arguments: [r.id])
            return task.id
        }
        try await h.run { api in
            let done = try await Fixtures.waitTask(api, tid, token: try await Fixtures.login(api))
            #expect(done["state"] as? String == "failed", "\(done)")
            let pending = try await h.custody.store.read { db in
                try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets WHERE state = 'pending'") ?? -1
            }
            #expect(pending == 0, "the never-sent password is dropped, not reconciled forever")
            #expect(t.password == L.old)
        }
    }

    /// A reset taken over from a node that stopped renewing its lease (it may be alive and send
    /// late): the current password still works, yet the new one stays a candidate; once the late
    /// send lands, the next verify makes it current.
    @Test func aTakenOverResetKeepsTheNewPasswordAsACandidateUntilAVerifySettlesIt() async throws {
        let h = try await Harness.make()
        let t = try await h.run { api in try await ScriptTarget.make(api) }
        let late = "Sent-Late-By-A-Stalled-Node-1!"
        let tid = try await h.custody.store.write { db -> String in
            let r = try #require(try ResourceRecord.fetchOne(db, key: t.env.rid))
            let a = try #require(try AccountRecord.fetchOne(db, key: t.env.aid))
            var task = try h.custody.newTask(.reset, r, a, by: "admin", reason: nil, db)
            let sid = newID()
            try h.custody.secrets.writePending(Secret(late), id: sid, account: a.id, by: "admin", at: Date(), task: task.id, db)
            task.pendingSecretId = sid
            task.state = .unknown
            task.phase = .reconcile
            task.resultCode = ResetEngine.takenOver
            try task.insert(db)
            return task.id
        }
        try await h.run { api in
            let token = try await Fixtures.login(api)
            let done = try await Fixtures.waitTask(api, tid, token: token)
            #expect(done["state"] as? String == "failed" && (done["result"] as? [String: Any])?["code"] as? String == "takenOver", "\(done)")
            var answer = try await t.answer(api)
            #expect(answer["password"] as? String == L.old)
            #expect((answer["candidates"] as? [[String: Any]])?.compactMap { $0["password"] as? String } == [late], "\(answer)")
            #expect(try await t.account(api)["syncStatus"] as? String == "unknown", "not in sync until a verify settles it")
            // The stalled node's send lands after all; the next verify finds the candidate working.
            try late.write(toFile: t.file, atomically: true, encoding: .utf8)
            let v = try await api.call(.post, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/verify", token: token)
            let vid = try #require(v.object["id"] as? String ?? v.object["taskId"] as? String, "\(v.text)")
            let verified = try await Fixtures.waitTask(api, vid, token: token)
            #expect(verified["state"] as? String == "succeeded", "\(verified)")
            answer = try await t.answer(api)
            #expect(answer["password"] as? String == late && (answer["candidates"] as? [Any])?.isEmpty == true, "\(answer)")
        }
    }

    /// One misconfigured resource (mode agent, no agent) is skipped and reported; the others run.
    @Test func aRotationRunSkipsAMisconfiguredResourceAndCommitsTheRest() async throws {
        try await Harness.make().run { api in
            let t = try await ScriptTarget.make(api)
            let bad = try await api.resource("no-agent-host", token: t.env.admin)
            _ = try await api.account(bad, "svc", password: "Svc-Pass-123", token: t.env.admin)
            #expect(try await api.call(.put, "/resources/\(bad)/reset-config", token: t.env.admin, json: ["mode": "agent"]).status == .ok)
            let g = try await api.call(.post, "/groups", token: t.env.admin, json: ["name": "mixed", "resourceIds": [t.env.rid, bad]])
            let gid = try #require(g.object["id"] as? String)
            try await api.call(.put, "/groups/\(gid)/rotation", token: t.env.admin, json: AuthorizationMatrixTests.rotationBody)
            let start = try await api.call(.post, "/groups/\(gid)/rotation/run", token: t.env.admin)
            let runID = try #require(start.object["runId"] as? String, "the run starts despite the bad resource: \(start.text)")
            let run = try await api.finishedRun("/rotation-runs/\(runID)", token: t.env.admin)
            let accounts = try #require(run["accounts"] as? [[String: Any]])
            let skipped = accounts.first { $0["resourceId"] as? String == bad }
            #expect(skipped?["state"] as? String == "skipped" && (skipped?["message"] as? String ?? "").contains("agent"), "\(accounts)")
            let done = accounts.first { $0["resourceId"] as? String == t.env.rid }
            #expect(done?["state"] as? String == "succeeded", "\(accounts)")
            #expect(try await t.answer(api)["password"] as? String == t.password && t.password != L.old)
        }
    }

    /// An administrator can end a reconcile that cannot settle; the candidate stays, the account is free again.
    @Test func anAdministratorAbandonsAStuckReconcileAndTheCandidateStays() async throws {
        let h = try await Harness.make(configure: {
            $0.resetRetrySeconds = 0
            $0.reconcileRetries = 1
        })
        try await h.run { api in
            let t = try await ScriptTarget.make(api)
            try t.mode("verify-unreachable")
            let r = try await api.call(.put, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/password", token: t.env.admin,
                json: ["resetType": "remote"])
            let tid = try #require(r.object["taskId"] as? String)
            for _ in 0..<100 {
                if try await t.account(api)["syncStatus"] as? String == "unknown" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let bare = try await api.call(.post, "/tasks/\(tid)/abandon", token: t.env.admin, json: [String: String]())
            #expect(bare.status == .badRequest, "a reason is required: \(bare.text)")
            let done = try await api.call(.post, "/tasks/\(tid)/abandon", token: t.env.admin, json: ["reason": "host retired"])
            #expect(done.object["state"] as? String == "failed" && (done.object["result"] as? [String: Any])?["code"] as? String == "abandoned",
                "\(done.text)")
            #expect(try await api.call(.post, "/tasks/\(tid)/abandon", token: t.env.admin, json: ["reason": "again"]).errorCode
                == "not_abandonable")
            let answer = try await t.answer(api)
            #expect((answer["candidates"] as? [[String: Any]])?.compactMap { $0["password"] as? String } == [t.password],
                "the password the target holds is still retrievable")
            #expect(try await t.account(api)["syncStatus"] as? String == "unknown")
            let audit = try await api.call(.get, "/audit?accountId=\(t.env.aid)&operation=abandon_reset", token: t.env.admin).array
            #expect(audit.count == 1)
            // The account is no longer held: a verify runs, finds the candidate working and makes it current.
            try t.mode("normal")
            let v = try await api.call(.post, "/resources/\(t.env.rid)/accounts/\(t.env.aid)/verify", token: t.env.admin)
            let verified = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String, "\(v.text)"), token: t.env.admin)
            #expect(verified["state"] as? String == "succeeded", "\(verified)")
            let settled = try await t.answer(api)
            #expect(settled["password"] as? String == t.password && (settled["candidates"] as? [Any])?.isEmpty == true, "\(settled)")
        }
    }

    /// A verify that started before a reset committed says nothing about the new password.
    @Test func aVerifyOverlappingACommittedResetDoesNotOverwriteTheStatus() async throws {
        let h = try await Harness.make()
        let t = try await h.run { api in try await ScriptTarget.make(api) }
        let c = h.custody
        let task = try await c.store.write { db -> TaskRecord in
            let r = try #require(try ResourceRecord.fetchOne(db, key: t.env.rid))
            let a = try #require(try AccountRecord.fetchOne(db, key: t.env.aid))
            var v = try c.newTask(.verify, r, a, by: "admin", reason: nil, db)
            v.state = .running
            v.startedAt = Date().addingTimeInterval(-60)
            try v.insert(db)
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'inSync', lastChangedAt = ? WHERE id = ?",
                arguments: [Date().timeIntervalSince1970, a.id])
            return v
        }
        try await c.engine.finish(task, state: .failed, code: "authenticationFailed", message: "old password refused", sync: .outOfSync)
        let status = try await c.store.read { db in try String.fetchOne(db, sql: "SELECT syncStatus FROM accounts WHERE id = ?", arguments: [t.env.aid]) }
        #expect(status == "inSync", "the stale verify did not mark the account out of sync")
    }
}
