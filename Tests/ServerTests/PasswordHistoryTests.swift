import Foundation
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// `GET …/history`: each version with when, who, how and from where; the old passwords only to
/// those who may retrieve the current one, with a reason, audited.
@Suite struct PasswordHistoryTests {
    @Test func theHistoryTellsWhoChangedWhatHowAndRevealsOnlyWithAReason() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let t = try await ScriptTarget.make(api)
            let admin = t.env.admin
            let base = "/resources/\(t.env.rid)/accounts/\(t.env.aid)"
            let task = try await t.reset(api, new: "Remote-History-Pass-2!")
            #expect(task["state"] as? String == "succeeded", "\(task)")
            #expect(try await api.call(.put, base + "/password", token: admin,
                json: ["resetType": "local", "newPassword": "Local-History-Pass-1!"]).status == .ok)
            #expect(try await api.call(.put, base + "/password", token: admin,
                json: ["resetType": "local", "newPassword": "Local-History-Pass-3!"]).status == .ok)

            let listed = try await api.call(.get, base + "/history", token: admin)
            #expect(listed.status == .ok && listed.headers[.cacheControl] == "no-store")
            let versions = try #require(listed.object["versions"] as? [[String: Any]])
            #expect(versions.first?["current"] as? Bool == true && versions.dropFirst().allSatisfy { $0["current"] as? Bool == false })
            #expect(versions.map { $0["how"] as? String } == ["local", "local", "remote reset", "created"], "\(versions)")
            #expect(versions[2]["taskId"] as? String == task["id"] as? String)
            #expect(versions.allSatisfy { $0["password"] == nil && ($0["ip"] as? String)?.isEmpty == false && $0["by"] as? String == "admin" })
            #expect(!listed.text.contains("History-Pass"))

            let noReason = try await api.call(.get, base + "/history?reveal=true", token: admin)
            #expect(noReason.errorCode == "reason_required")
            let revealed = try await api.call(.get, base + "/history?reveal=true&reason=incident%2042", token: admin)
            let shown = try #require(revealed.object["versions"] as? [[String: Any]]).prefix(3).map { $0["password"] as? String }
            #expect(shown == ["Local-History-Pass-3!", "Local-History-Pass-1!", "Remote-History-Pass-2!"], "\(revealed.text)")
            let audit = try await api.call(.get, "/audit?accountId=\(t.env.aid)&operation=retrieve_password_history", token: admin).array
            #expect(audit.count == 1 && audit.first?["reason"] as? String == "incident 42")

            // Someone who may see the account but not read its password sees the history, never the passwords.
            let auditor = try await api.user("hist-auditor", role: "passwordAuditor", adminToken: admin)
            try await api.call(.put, "/resources/\(t.env.rid)/shares", token: admin, json: ["users": [["username": "hist-auditor", "permission": "view"]]])
            #expect(try await api.call(.get, base + "/history", token: auditor).status == .ok)
            let refused = try await api.call(.get, base + "/history?reveal=true&reason=curious", token: auditor)
            #expect(refused.status == .forbidden && !refused.text.contains("History-Pass"))
            let denied = try await api.call(.get, "/audit?accountId=\(t.env.aid)&operation=retrieve_password_history", token: admin).array
            #expect(denied.contains { $0["outcome"] as? String == "denied" && $0["user"] as? String == "hist-auditor" })
            let viewer = try await api.user("hist-viewer", role: "passwordUser", adminToken: admin)
            try await api.call(.put, "/resources/\(t.env.rid)/shares", token: admin, json: ["users": [["username": "hist-auditor", "permission": "view"],
                ["username": "hist-viewer", "permission": "view"]]])
            let seen = try #require(try await api.call(.get, base + "/history", token: viewer).object["versions"] as? [[String: Any]])
            #expect(seen.count == 4 && seen.allSatisfy { $0["ip"] == nil }, "addresses are audit information: \(seen)")
            let stranger = try await api.user("hist-stranger", role: "passwordUser", adminToken: admin)
            #expect(try await api.call(.get, base + "/history", token: stranger).status == .notFound)
        }
    }
}
