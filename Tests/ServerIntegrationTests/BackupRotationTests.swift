import Foundation
import GRDB
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// The disaster the backups are for: a backup taken while a rotation runs on the real sshd, the
/// server then lost; the backup restored into a new directory and a server started on it. Its
/// reconcile settles what the rotation left under way, and every password in the restored vault
/// logs in on the target; the audit chain verifies.
@Suite(.needsTestTargets) struct BackupRotationTests {
    typealias T = TestTargets

    @Test func aBackupTakenDuringARotationRestoresToAVaultWhosePasswordsAllWork() async throws {
        let h = try await Harness.make()
        let (rid, ids, file, pendingAtBackup) = try await h.run { api in
            let s = try await ResetEngineTests.setup(api, target: "e_bk0", password: "Bk-Start-0!")
            var ids = [s.user: s.aid]
            for i in 1..<8 {
                let user = T.target("e_bk\(i)", password: "Bk-Start-\(i)!")
                ids[user] = try await api.account(s.rid, user, password: "Bk-Start-\(i)!", token: s.admin)
            }
            let g = try await api.call(.post, "/groups", token: s.admin, json: ["name": "bk-rotation", "resourceIds": [s.rid]])
            let gid = try #require(g.object["id"] as? String)
            let cfg = try await api.call(.put, "/groups/\(gid)/rotation", token: s.admin, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "01:00", "timeZone": "UTC"], "passwordChoice": "unique"])
            #expect(cfg.status == .ok || cfg.status == .noContent, "\(cfg.text)")
            let started = try await api.call(.post, "/groups/\(gid)/rotation/run", token: s.admin)
            let run = try #require(started.object["runId"] as? String, "\(started.text)")
            // The backup as soon as the first account has changed, while the others are still to come.
            var pending = 0
            for _ in 0..<600 {
                let view = try await api.call(.get, "/rotation-runs/\(run)", token: s.admin).object
                let summary = view["summary"] as? [String: Int] ?? [:]
                pending = summary["pending"] ?? 0
                if (summary["succeeded"] ?? 0) >= 1 { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let made = try await api.call(.post, "/backups", token: s.admin)
            let name = try #require(made.object["name"] as? String, "\(made.text)")
            let done = try await api.finishedRun("/rotation-runs/\(run)", token: s.admin)
            #expect((done["summary"] as? [String: Int])?["succeeded"] == 8, "\(done)")
            return (s.rid, ids, h.custody.config.resolvedBackupDir + "/" + name, pending)
        }
        #expect(pendingAtBackup > 0, "the backup was taken while the rotation still had accounts to change")

        // The first server is gone; its backup is restored with its master key.
        let key = try MasterKey.load(path: h.custody.config.resolvedMasterKeyFile)
        let restored = TestTargets.scratchURL.appendingPathComponent("bk-restored-\(UUID().uuidString)").path
        let r = try await Blocking.run { try BackupFiles.restore(file, into: restored, masterKey: key, passphrase: nil) }
        #expect(r.check?.ok == true)
        try FileManager.default.copyItem(atPath: h.custody.config.resolvedMasterKeyFile, toPath: restored + "/master.key")
        let second = try await Harness.make(dataDir: restored)
        let underWay = try await second.custody.sqlite!.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tasks WHERE state IN ('queued', 'running')") ?? 0
        }
        #expect(underWay > 0, "the backup holds tasks the rotation had under way")
        try await second.run { api in
            let token = try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).object["token"] as? String)
            // What the backup caught under way runs or reconciles on the restored server; bounded. A task
            // that was running when the backup was taken is `unknown` until its reconcile has run.
            var tasks: [String] = []
            for _ in 0..<1200 {
                tasks = try await second.custody.sqlite!.read { db in
                    try Row.fetchAll(db, sql: "SELECT state, phase, resultCode, resultMessage FROM tasks").map { "\($0)" }
                }
                if !tasks.contains(where: { $0.contains("\"queued\"") || $0.contains("\"running\"") || $0.contains("\"unknown\"") }) { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            for (user, aid) in ids {
                let pw = try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: token).object["password"] as? String)
                #expect(T.passwordWorks(user, pw), "\(user): the restored vault's password logs in; tasks: \(tasks)")
            }
        }
        let chain = try await second.custody.sqlite!.read { try AuditVerifier.verify($0) }
        #expect(chain.ok, "\(chain)")
    }
}
