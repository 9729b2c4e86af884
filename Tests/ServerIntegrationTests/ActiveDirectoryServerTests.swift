import Foundation
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Domain accounts through the whole server, against a real Samba AD DC: a scheduled rotation of
/// several accounts, then an integrity run that finds the one an
/// administrator changed behind Custody's back, although its old password still binds over LDAP.
@Suite(.needs("a Samba AD DC (root needed)", SambaDC.ready.available), .serialized) struct ActiveDirectoryServerTests {
    typealias DC = SambaDC

    @Test func aScheduledRotationOfDomainAccountsThenAnIntegrityRunFindsOneChangedBehindCustodysBack() async throws {
        let clock = TestClock()
        clock.advance(ISO8601DateFormatter().date(from: "2026-06-01T00:30:00Z")!.timeIntervalSince(clock.now))
        let h = try await Harness.make(clock: clock)
        let suffix = UUID().uuidString.prefix(4).lowercased()
        let admin = "rot-admin-\(suffix)"
        DC.user(admin, password: "Rot-Admin-1!")
        #expect(DC.tool(["group", "addmembers", "Domain Admins", admin]).status == 0)
        let users = (0..<3).map { "rot-\(suffix)-\($0)" }
        let dns = users.map { DC.user($0, password: "Start-Pass-1!") }
        try await h.run { api in
            var token = try await api.admin()
            let rid = try await api.resource("custody.test", token: token, type: "Windows Domain")
            try await api.call(.patch, "/resources/\(rid)", token: token, json: ["dnsName": DC.host])
            var ids = [admin: try await api.account(rid, admin, password: "Rot-Admin-1!", token: token)]
            for u in users { ids[u] = try await api.account(rid, u, password: "Start-Pass-1!", token: token) }
            let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: token,
                json: ["mode": "agentless", "loginAccount": admin, "options": ["caFile": DC.caFile]])
            #expect(cfg.status == .ok, "\(cfg.text)")
            let g = try await api.call(.post, "/groups", token: token, json: ["name": "domain-\(suffix)", "resourceIds": [rid]])
            let gid = try #require(g.object["id"] as? String)
            try await api.call(.put, "/groups/\(gid)/rotation", token: token, json: [
                "schedule": ["kind": "days", "everyDays": 1, "at": "01:00", "timeZone": "UTC"], "passwordChoice": "unique"])
            clock.advance(35 * 60)
            let runs = try await h.custody.rotationRuns.runDue()
            try #require(runs.count == 1)
            token = try #require(try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword]).object["token"] as? String)
            let run = try await api.finishedRun("/rotation-runs/\(runs[0])", token: token)
            // The reset account is the one the config logs in with: the rotation leaves it alone.
            #expect(run["summary"] as? [String: Int] == ["total": 4, "succeeded": 3, "failed": 0, "skipped": 1, "pending": 0], "\(run)")
            var stored: [String: String] = [:]
            for (name, aid) in ids {
                stored[name] = try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: token).object["password"] as? String)
                #expect(DC.passwordIs(name, stored[name]!), "\(name): the vault's password is the account's current one")
            }
            #expect(!DC.passwordIs(users[0], "Start-Pass-1!") && Set(stored.values).count == 4 && stored[admin] == "Rot-Admin-1!")

            // Behind Custody's back; the vault's password still binds over LDAP for an hour.
            DC.setPassword(dns[1], "Behind-Back-7!")
            #expect(DC.ldapBinds("\(users[1])@\(DC.dnsDomain)", stored[users[1]]!))
            let start = try await api.call(.post, "/integrity/run", token: token)
            let check = try await api.finishedRun("/integrity-runs/\(try #require(start.object["runId"] as? String))", token: token)
            #expect((check["summary"] as? [String: Int])?["total"] == 4, "\(check)")
            let rows = try #require(try await api.call(.get, "/reports/integrity", token: token).object["accounts"] as? [[String: Any]])
            let status = Dictionary(uniqueKeysWithValues: rows.compactMap { r in (r["account"] as? String).map { ($0, r["status"] as? String ?? "") } })
            #expect(status[users[1]] == "outOfSync" && status[users[0]] == "inSync" && status[users[2]] == "inSync" && status[admin] == "inSync",
                "\(status)")
        }
    }
}
