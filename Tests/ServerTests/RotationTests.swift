import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

/// Group rotation: run now with unique or common passwords, overlaps skipped and reported, the
/// scheduler driven by a test clock (a missed run happens once, allowed hours are kept).
@Suite struct RotationTests {
    typealias Scripted = ScriptedPlugin

    func harness(_ plugin: Scripted, clock: TestClock? = nil, dataDir: String? = nil) async throws -> Harness {
        let base = try await Harness.make(clock: clock, dataDir: dataDir)
        let c = base.custody
        let custody = Custody(config: c.config, store: c.store, vault: c.vault, logger: c.logger, now: c.now,
            plugins: PluginRegistry(plugins: ["unix": plugin]))
        return Harness(custody: custody, dataDir: base.dataDir)
    }

    /// A group with one resource of `n` accounts on the scripted plugin; returns (admin, gid, rid, account ids).
    func setup(_ api: API, accounts n: Int = 3) async throws -> (String, String, String, [String]) {
        let admin = try await api.admin()
        let rid = try await api.resource("rot-\(UUID().uuidString.prefix(6))", token: admin)
        var ids: [String] = []
        for i in 0..<n { ids.append(try await api.account(rid, "svc\(i)", password: "Start-Pass-\(i)", token: admin)) }
        try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh"])
        let g = try await api.call(.post, "/groups", token: admin, json: ["name": "grp-\(UUID().uuidString.prefix(6))", "resourceIds": [rid]])
        return (admin, try #require(g.object["id"] as? String), rid, ids)
    }


    @Test func runNowRotatesEachAccountWithItsOwnPasswordAndSkipsOneAlreadyInAReset() async throws {
        let plugin = Scripted(delay: .milliseconds(1500))
        try await harness(plugin).run { api in
            let (admin, gid, rid, ids) = try await setup(api)
            try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/password", token: admin, json: ["resetType": "remote"])
            let start = try await api.call(.post, "/groups/\(gid)/rotation/run", token: admin)
            #expect(start.status == .accepted)
            let run = try await api.finishedRun("/rotation-runs/\(try #require(start.object["runId"] as? String))", token: admin)
            let summary = try #require(run["summary"] as? [String: Int])
            #expect(summary == ["total": 3, "succeeded": 2, "failed": 0, "skipped": 1, "pending": 0], "\(run)")
            let accounts = try #require(run["accounts"] as? [[String: Any]])
            #expect(accounts.first { $0["accountId"] as? String == ids[0] }?["message"] as? String == "a reset of this account is already under way")
            var stored: Set<String> = []
            for aid in ids[1...] {
                stored.insert(try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String))
            }
            #expect(stored.count == 2 && !stored.contains("Start-Pass-1"), "unique passwords, committed")
        }
    }

    @Test func aCommonPasswordIsTheSameForEveryAccount() async throws {
        try await harness(Scripted()).run { api in
            let (admin, gid, rid, ids) = try await setup(api)
            let saved = try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "never", "at": "01:00"], "passwordChoice": "common"])
            #expect(saved.status == .ok, "\(saved.text)")
            let start = try await api.call(.post, "/groups/\(gid)/rotation/run", token: admin)
            let run = try await api.finishedRun("/rotation-runs/\(try #require(start.object["runId"] as? String))", token: admin)
            #expect((run["summary"] as? [String: Int])?["succeeded"] == 3, "\(run)")
            var stored: Set<String> = []
            for aid in ids {
                stored.insert(try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String))
            }
            #expect(stored.count == 1 && !stored.contains("Start-Pass-0"))
        }
    }

    @Test func theSchedulerRunsOnceAfterDowntimeAndOnlyInsideItsAllowedHours() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:30:00Z")!.timeIntervalSince(clock.now))
        let h = try await harness(Scripted(), clock: clock)
        try await h.run { api in
            let (first, gid, _, _) = try await setup(api, accounts: 1)
            var admin = first
            let bad = try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "monthly", "at": "01:00", "dayOfMonth": 32], "passwordChoice": "unique"])
            #expect(bad.errorCode == "invalid_schedule")
            try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "01:00", "timeZone": "UTC"], "passwordChoice": "unique"])
            #expect(try await h.custody.rotationRuns.runDue().isEmpty, "not yet 01:00")
            clock.advance(35 * 60)
            #expect(try await h.custody.rotationRuns.runDue().count == 1)
            #expect(try await h.custody.rotationRuns.runDue().isEmpty, "once per occurrence")
            clock.advance(5 * 86400)  // five missed days
            #expect(try await h.custody.rotationRuns.runDue().count == 1, "a downtime's missed runs happen once")
            #expect(try await h.custody.rotationRuns.runDue().isEmpty)
            // Sessions expire with the test clock too: log in again.
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            admin = try #require(login.object["token"] as? String)
            let shown = try await api.call(.get, "/groups/\(gid)/rotation", token: admin).object
            #expect(shown["nextRunAt"] as? String == "2026-06-07T01:00:00Z", "\(shown)")

            try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "03:00", "timeZone": "UTC", "allowedHours": ["from": "08:00", "to": "09:00"]],
                "passwordChoice": "unique"])
            clock.advance(86400 + 2 * 3600)  // 03:05 next day: due, but outside 08:00-09:00
            #expect(try await h.custody.rotationRuns.runDue().isEmpty, "no change starts outside the allowed hours")
            clock.advance(5 * 3600)  // 08:05
            #expect(try await h.custody.rotationRuns.runDue().count == 1)
        }
    }

    @Test func resetsNotStartedWhenTheWindowClosesAreCancelledAndReported() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T07:50:00Z")!.timeIntervalSince(clock.now))
        let h = try await harness(Scripted(), clock: clock)
        let (admin, gid) = try await h.run { api in
            let (admin, gid, _, _) = try await setup(api, accounts: 2)
            try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "08:00", "timeZone": "UTC", "allowedHours": ["from": "08:00", "to": "09:00"]],
                "passwordChoice": "common"])
            return (admin, gid)
        }
        // With the engine stopped, the 08:00 run queues its resets at 08:30; the window closes before any starts.
        clock.advance(40 * 60)
        let run = try #require(try await h.custody.rotationRuns.runDue().first)
        clock.advance(3600)
        try await h.run { api in
            let report = try await api.finishedRun("/rotation-runs/\(run)", token: admin)
            #expect((report["summary"] as? [String: Int])?["failed"] == 2, "\(report)")
            #expect((report["accounts"] as? [[String: Any]])?.allSatisfy { $0["code"] as? String == "windowClosed" } == true)
            let pending = try await h.custody.store.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets WHERE state = 'pending'") }
            #expect(pending == 0, "the common password's pending copies are discarded")
            _ = gid
        }
    }

    @Test func anExpiredPasswordIsRecordedOnceAndResetWhereTheGroupAsks() async throws {
        let clock = TestClock()
        let h = try await harness(Scripted(), clock: clock)
        try await h.run { api in
            let (first, gid, rid, ids) = try await setup(api, accounts: 2)
            var admin = first
            let policy = try await api.call(.post, "/policies", token: admin, json: ["name": "OneDay", "minLength": 10, "maxLength": 20, "maxAgeDays": 1])
            #expect(policy.status == .created, "\(policy.text)")
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["passwordPolicy": "OneDay"])
            try await api.call(.put, "/groups/\(gid)/rotation", token: admin, json: [
                "schedule": ["kind": "never", "at": "01:00"], "passwordChoice": "unique", "resetOnExpiry": true])
            #expect(try await h.custody.expiry.run().isEmpty, "fresh passwords")
            clock.advance(2 * 86400)
            #expect(Set(try await h.custody.expiry.run()) == Set(ids))
            #expect(try await h.custody.expiry.run().isEmpty, "an expiry is recorded once")
            let audited = try await h.custody.store.read { db in
                try String.fetchAll(db, sql: "SELECT message FROM audit WHERE operation = 'password_expired'")
            }
            #expect(audited.count == 2 && audited.allSatisfy { $0.contains("older than 1 days") && $0.contains("reset queued") }, "\(audited)")
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
            admin = try #require(login.object["token"] as? String)
            for aid in ids {  // the resets ran: new passwords, committed
                var stored = ""
                for _ in 0..<100 {
                    stored = try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String ?? ""
                    if !stored.hasPrefix("Start-Pass-") { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(!stored.hasPrefix("Start-Pass-"), "the expired password was reset")
            }
            #expect(try await h.custody.expiry.run().isEmpty, "a reset password is not expired")
        }
    }
}
