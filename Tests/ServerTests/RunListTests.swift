import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// The run lists through the API: rotation runs of the groups the caller can see, integrity runs for
/// the roles that read them, paging, filters and clear refusals.
@Suite struct RunListTests {
    @Test func runListsShowWhatTheCallerMaySee() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try #require(try await api.call(.post, "/resources", token: admin,
                json: ["name": "runs-host", "dnsName": "runs.example.test", "type": "Linux"]).object["id"] as? String)
            _ = try await api.call(.post, "/resources/\(rid)/accounts", token: admin, json: ["loginName": "svc", "password": "Svc-Pass-Runs-1"])
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh", "port": 1])
            let gid = try #require(try await api.call(.post, "/groups", token: admin, json: ["name": "runs", "resourceIds": [rid]]).object["id"]
                as? String)
            var started: [String] = []
            for _ in 0..<3 {
                let r = try await api.call(.post, "/groups/\(gid)/rotation/run", token: admin)
                #expect(r.status == .accepted, "\(r.text)")
                started.append(try #require(r.object["runId"] as? String))
            }
            let paged = try await ListPagingTests.all(api, "/rotation-runs", size: 2, token: admin)
            #expect(paged.rows == started.reversed() && paged.pages == [2, 1], "\(paged)")
            let first = try #require(try await api.call(.get, "/rotation-runs?groupId=\(gid)&trigger=manual", token: admin).array.first)
            #expect(first["group"] as? String == "runs" && first["groupId"] as? String == gid && first["requestedBy"] as? String == "admin")
            #expect((first["summary"] as? [String: Any])?["total"] as? Int == 1, "\(first)")
            #expect(try await api.call(.get, "/rotation-runs?trigger=schedule", token: admin).array.isEmpty)

            // A password user sees no run of a group not shared with them, and is told the group is not there.
            let pat = try await api.user("pat", role: "passwordUser", adminToken: admin)
            #expect(try await api.call(.get, "/rotation-runs", token: pat).array.isEmpty)
            #expect(try await api.call(.get, "/rotation-runs?groupId=\(gid)", token: pat).status == .notFound)
            try await api.call(.put, "/groups/\(gid)/shares", token: admin, json: ["users": [["username": "pat", "permission": "view"]]])
            let shared = try await api.call(.get, "/rotation-runs?groupId=\(gid)", token: pat).array
            #expect(shared.count == 3 && shared.allSatisfy { ($0["summary"] as? [String: Any])?["total"] as? Int == 1 }, "\(shared)")

            let integrity = try await api.call(.post, "/integrity/run", token: admin)
            let iid = try #require(integrity.object["runId"] as? String)
            let runs = try await api.call(.get, "/integrity-runs?limit=10", token: admin).array
            #expect(runs.first?["id"] as? String == iid && runs.first?["groupId"] == nil && runs.first?["trigger"] as? String == "manual")
            #expect(try await api.call(.get, "/integrity-runs", token: pat).status == .forbidden)

            for path in ["/rotation-runs?trigger=daily", "/integrity-runs?trigger=schedule", "/rotation-runs?limit=0", "/rotation-runs?limit=101",
                "/integrity-runs?limit=101"]
            {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_parameter", "\(path): \(r.text)")
            }
            // A cursor of another list is refused, not read from the start.
            let other = PageCursor(key: "runs-host", id: rid).token
            let notANumber = PageCursor(key: "nan", id: "x").token
            for path in ["/rotation-runs?cursor=\(other)", "/integrity-runs?cursor=\(other)", "/rotation-runs?cursor=\(notANumber)"] {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_cursor", "\(path): \(r.text)")
            }
        }
    }
}
