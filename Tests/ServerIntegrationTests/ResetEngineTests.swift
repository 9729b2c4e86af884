import Foundation
import GRDB
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// The task engine end to end: the REST API queues, the engine runs the Unix plugin against the
/// real sshd, and the vault always ends with the password that works on the target.
@Suite(.needsTestTargets) struct ResetEngineTests {
    typealias T = TestTargets

    struct Setup: Sendable { let admin, rid, aid, user: String }

    /// A Linux resource on the test sshd with a login account, a root account and one target.
    static func setup(_ api: API, target: String, password: String, rootPassword: String = T.rootPassword, port: Int = T.sshPort)
        async throws -> Setup
    {
        let admin = try await api.admin()
        let user = T.target(target, password: password)
        let r = try await api.call(.post, "/resources", token: admin, json: ["name": "host-\(target)", "dnsName": "127.0.0.1", "type": "Linux"])
        let rid = try #require(r.object["id"] as? String)
        _ = try await api.account(rid, T.loginUser, password: T.loginPassword, token: admin)
        _ = try await api.account(rid, T.rootUser, password: rootPassword, token: admin)
        let aid = try await api.account(rid, user, password: password, token: admin)
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: [
            "mode": "agentless", "protocol": "ssh", "port": port, "loginAccount": T.loginUser, "elevation": "su", "rootAccount": T.rootUser,
        ])
        #expect(cfg.status == .ok, "\(cfg.text)")
        return Setup(admin: admin, rid: rid, aid: aid, user: user)
    }

    static func stored(_ api: API, _ s: Setup) async throws -> String {
        try #require(try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin).object["password"] as? String)
    }

    @Test func aRemoteResetChangesVerifiesCommitsAndPinsTheHostKey() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let s = try await Self.setup(api, target: "e_reset", password: "E-Reset-Old-1")
            let queued = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin,
                json: ["resetType": "remote", "reason": "rotation test"])
            #expect(queued.status == .accepted)
            let tid = try #require(queued.object["taskId"] as? String)
            let task = try await Fixtures.waitTask(api, tid, token: s.admin)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            #expect(task["via"] as? String == "agentless")
            let new = try await Self.stored(api, s)
            #expect(new != "E-Reset-Old-1")
            #expect(T.passwordWorks(s.user, new))
            let account = try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)", token: s.admin).object
            #expect(account["syncStatus"] as? String == "inSync")
            let cfg = try await api.call(.get, "/resources/\(s.rid)/reset-config", token: s.admin).object
            #expect(cfg["hostKey"] as? String == T.ready.hostKey)
            let mine = try await api.call(.get, "/tasks?mine=true&state=succeeded", token: s.admin).array
            #expect(mine.contains { $0["id"] as? String == tid })
            #expect(!(try await api.call(.get, "/tasks/\(tid)", token: s.admin).text.contains(new)))
            let audit = try await api.call(.get, "/audit?accountId=\(s.aid)", token: s.admin).array
            #expect(audit.contains { $0["operation"] as? String == "change_password" && ($0["message"] as? String ?? "").contains("remote reset") })
        }
    }

    @Test func aGivenPasswordIsUsedAndASecondResetWhileOneRunsIsRefused() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let s = try await Self.setup(api, target: "e_given", password: "E-Given-Old-1")
            let first = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin,
                json: ["resetType": "remote", "newPassword": "E-Given-New-Pass-9!"])
            let second = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin,
                json: ["resetType": "remote", "newPassword": "E-Given-Other-Pass-9!"])
            #expect(second.status == .conflict && second.errorCode == "reset_in_progress")
            let task = try await Fixtures.waitTask(api, try #require(first.object["taskId"] as? String), token: s.admin)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            #expect(try await Self.stored(api, s) == "E-Given-New-Pass-9!")
            #expect(T.passwordWorks(s.user, "E-Given-New-Pass-9!"))
        }
    }

    @Test func aFailedChangeKeepsTheOldPasswordInTheVaultAndOnTheTarget() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let s = try await Self.setup(api, target: "e_fail", password: "E-Fail-Old-1", rootPassword: "Wrong-Root-Pass")
            let q = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin, json: ["resetType": "remote"])
            let task = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: s.admin)
            #expect(task["state"] as? String == "failed")
            #expect((task["result"] as? [String: Any])?["code"] as? String == "permissionDenied")
            #expect(try await Self.stored(api, s) == "E-Fail-Old-1")
            #expect(T.passwordWorks(s.user, "E-Fail-Old-1"))
            let pending = try await h.custody.store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM secrets WHERE state = 'pending'") }
            #expect(pending == 0)
            let audit = try await api.call(.get, "/audit?accountId=\(s.aid)", token: s.admin).array
            #expect(audit.contains { $0["operation"] as? String == "reset_attempt" && ($0["message"] as? String ?? "").contains("permissionDenied") })
        }
    }

    @Test func verifyMarksInSyncThenOutOfSyncWhenThePasswordChangesBehindCustodysBack() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let s = try await Self.setup(api, target: "e_verify", password: "E-Verify-Old-1")
            let v1 = try await api.call(.post, "/resources/\(s.rid)/accounts/\(s.aid)/verify", token: s.admin)
            #expect(v1.status == .accepted)
            #expect(try await Fixtures.waitTask(api, try #require(v1.object["taskId"] as? String), token: s.admin)["state"] as? String == "succeeded")
            T.setPassword(s.user, "Changed-Elsewhere-1")
            let v2 = try await api.call(.post, "/resources/\(s.rid)/accounts/\(s.aid)/verify", token: s.admin)
            let t2 = try await Fixtures.waitTask(api, try #require(v2.object["taskId"] as? String), token: s.admin)
            #expect((t2["result"] as? [String: Any])?["code"] as? String == "authenticationFailed")
            let account = try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)", token: s.admin).object
            #expect(account["syncStatus"] as? String == "outOfSync")
        }
    }

    @Test func anUnreachableTargetIsNotOutOfSync() async throws {
        let h = try await Harness.make(configure: { $0.resetMaxAttempts = 1 })
        try await h.run { api in
            let s = try await Self.setup(api, target: "e_unreach", password: "E-Unreach-1", port: 1)
            let q = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin, json: ["resetType": "remote"])
            let task = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: s.admin)
            #expect((task["result"] as? [String: Any])?["code"] as? String == "unreachable")
            let account = try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)", token: s.admin).object
            #expect(account["syncStatus"] as? String == "unreachable")
            #expect(try await Self.stored(api, s) == "E-Unreach-1")
        }
    }

    /// The process dies after the target changed the password but before the commit: the restarted
    /// engine finds the interrupted task, verifies the pending password and commits it.
    @Test func aCrashAfterTheChangeIsReconciledToTheNewPasswordAtRestart() async throws {
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-crash-\(UUID().uuidString)").path
        let crashing = try await Harness.make(dataDir: dir, crashAfterReset: { _ in true })
        let (s, tid) = try await crashing.run { api -> (Setup, String) in
            let s = try await Self.setup(api, target: "e_crash", password: "E-Crash-Old-1")
            let q = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: s.admin, json: ["resetType": "remote"])
            let tid = try #require(q.object["taskId"] as? String)
            for _ in 0..<100 {
                let t = try await crashing.custody.store.read { try TaskRecord.fetchOne($0, key: tid) }
                if t?.phase == .changing, !T.passwordWorks(s.user, "E-Crash-Old-1") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            return (s, tid)
        }
        let interrupted = try #require(try await crashing.custody.store.read { try TaskRecord.fetchOne($0, key: tid) })
        #expect(interrupted.state == .running && interrupted.phase == .changing)
        #expect(!T.passwordWorks(s.user, "E-Crash-Old-1"), "the target changed before the crash")
        let restarted = try await Harness.make(dataDir: dir)
        try await restarted.run { api in
            let task = try await Fixtures.waitTask(api, tid, token: s.admin)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            let stored = try await Self.stored(api, s)
            #expect(stored != "E-Crash-Old-1")
            #expect(T.passwordWorks(s.user, stored))
        }
    }

    /// The process dies after the pending password was written but before the target was touched:
    /// reconcile finds the current password still works and drops the pending one.
    @Test func aCrashBeforeTheChangeIsReconciledToTheOldPasswordAtRestart() async throws {
        let dir = TestTargets.scratchURL.appendingPathComponent("custody-crash2-\(UUID().uuidString)").path
        let first = try await Harness.make(dataDir: dir)
        let s = try await first.run { api in try await Self.setup(api, target: "e_crash2", password: "E-Crash2-Old-1") }
        // What a crash right after the write-ahead leaves behind, made with the engine's own steps.
        let tid = newID()
        try await first.custody.store.write { db in
            let sid = newID()
            try first.custody.secrets.writePending(Secret("Never-Sent-Pass-1"), id: sid, account: s.aid, by: "admin", at: Date(), task: tid, db)
            try TaskRecord(id: tid, kind: .reset, state: .running, phase: .changing, via: "agentless", resourceId: s.rid, accountId: s.aid,
                host: "127.0.0.1", requestedBy: "admin", requestedById: nil, newPasswordGiven: false, pendingSecretId: sid, attempts: 1,
                resultCode: nil, resultMessage: nil, reason: nil, ticketId: nil, createdAt: Date(), startedAt: Date(), finishedAt: nil,
                notBefore: 0).insert(db)
        }
        let restarted = try await Harness.make(dataDir: dir)
        try await restarted.run { api in
            let task = try await Fixtures.waitTask(api, tid, token: s.admin)
            #expect(task["state"] as? String == "failed")
            #expect(((task["result"] as? [String: Any])?["message"] as? String ?? "").contains("current password still works"))
            #expect(try await Self.stored(api, s) == "E-Crash2-Old-1")
            #expect(T.passwordWorks(s.user, "E-Crash2-Old-1"))
            let pending = try await restarted.custody.store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM secrets WHERE state = 'pending'") }
            #expect(pending == 0)
        }
    }
}
