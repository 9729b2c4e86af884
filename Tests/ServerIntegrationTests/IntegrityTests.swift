import Foundation
import GRDB
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// The integrity check against the real sshd: one account in sync, one out of sync, one on an
/// unreachable host; the report in JSON and CSV; the nightly run driven by a test clock.
@Suite struct IntegrityTests {
    typealias T = TestTargets


    func host(_ api: API, _ admin: String, _ name: String, port: Int) async throws -> String {
        let rid = try await api.resource(name, token: admin)
        try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["dnsName": "127.0.0.1"])
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh", "port": port])
        #expect(cfg.status == .ok, "\(cfg.text)")
        return rid
    }

    @Test(.needsTestTargets)
    func inSyncOutOfSyncAndUnreachableAreToldApart() async throws {
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let good = T.target("int_good", password: "Int-Good-Pass-1")
            let bad = T.target("int_bad", password: "Int-Real-Pass-1")
            let up = try await host(api, admin, "int-up", port: T.sshPort)
            _ = try await api.account(up, good, password: "Int-Good-Pass-1", token: admin)
            _ = try await api.account(up, bad, password: "Int-Stale-Pass-1", token: admin)
            let down = try await host(api, admin, "int-down", port: 1)
            _ = try await api.account(down, "nobody", password: "Whatever-Pass-1", token: admin)
            let before = try await api.call(.get, "/reports/integrity", token: admin).object["summary"] as? [String: Int]
            #expect(before?["neverChecked"] == 3 && before?["resetEnabled"] == 3, "\(String(describing: before))")
            let start = try await api.call(.post, "/integrity/run", token: admin)
            #expect(start.status == .accepted)
            let run = try await api.finishedRun("/integrity-runs/\(try #require(start.object["runId"] as? String))", token: admin)
            #expect((run["summary"] as? [String: Int])?["total"] == 3)
            let report = try await api.call(.get, "/reports/integrity", token: admin).object
            let summary = try #require(report["summary"] as? [String: Int])
            #expect(summary["inSync"] == 1 && summary["outOfSync"] == 1 && summary["unreachable"] == 1 && summary["neverChecked"] == 0,
                "\(summary)")
            let rows = try #require(report["accounts"] as? [[String: Any]])
            #expect(rows.first { $0["account"] as? String == bad }?["status"] as? String == "outOfSync")
            #expect(rows.first { $0["account"] as? String == good }?["lastChangedBy"] as? String == "admin")
            let csv = try await api.call(.get, "/reports/integrity?format=csv", token: admin).text
            let lines = csv.split(separator: "\n")
            #expect(lines.first == "resource,account,status,viaAgent,lastVerifiedAt,lastChangedAt,lastChangedBy" && lines.count == 4, "\(csv)")
            #expect(lines.contains { $0.hasPrefix("int-down,nobody,unreachable,false,") })
        }
    }

    @Test func theNightlyRunHappensOnceADayAtItsTimeEvenAfterDowntime() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:30:00Z")!.timeIntervalSince(clock.now))
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let bad = try await api.call(.put, "/settings/integrity", token: admin, json: ["dailyAt": "25:00"])
            #expect(bad.status == .badRequest)
            try await api.call(.put, "/settings/integrity", token: admin, json: ["dailyAt": "01:00", "timeZone": "UTC"])
            #expect(try await api.call(.get, "/settings/integrity", token: admin).object["dailyAt"] as? String == "01:00")
            _ = try await host(api, admin, "nightly", port: 1)
            #expect(try await h.custody.integrity.runDue() == nil, "the first look only notes the time")
            #expect(try await h.custody.integrity.runDue() == nil, "00:30: not yet")
            clock.advance(40 * 60)
            #expect(try await h.custody.integrity.runDue() != nil, "01:10: the nightly run")
            #expect(try await h.custody.integrity.runDue() == nil)
            clock.advance(3 * 86400)
            #expect(try await h.custody.integrity.runDue() != nil, "after three missed nights, one run")
            #expect(try await h.custody.integrity.runDue() == nil)
        }
    }
}
