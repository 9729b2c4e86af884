import Foundation
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Access control against the real sshd: a holder checks a password out and reads it; at the end of
/// the window (a test clock) the server checks it in and resets it on the target, so the password
/// the holder saw no longer logs in and the vault's new one does.
@Suite(.needsTestTargets) struct AccessControlSSHTests {
    typealias T = TestTargets

    @Test func theServerChecksInAtTheDeadlineAndTheHoldersPasswordStopsWorking() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let s = try await ResetEngineTests.setup(api, target: "e_access", password: "E-Access-Old-1")
            let approver = try await api.user("ssh-approver", role: "administrator", adminToken: s.admin)
            let holder = try await api.user("ssh-holder", role: "passwordUser", adminToken: s.admin)
            try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/shares", token: s.admin,
                json: ["users": [["username": "ssh-holder", "permission": "view"]]])
            let rules = try await api.call(.put, "/resources/\(s.rid)/accounts/\(s.aid)/access-control", token: s.admin,
                json: ["approvers": ["users": ["ssh-approver"]], "resetOnCheckin": true, "maxMinutes": 30])
            #expect(rules.status == .ok, "\(rules.text)")
            let asked = try await api.call(.post, "/resources/\(s.rid)/accounts/\(s.aid)/access-requests", token: holder,
                json: ["reason": "patch night", "minutes": 15])
            let id = try #require(asked.object["id"] as? String, "\(asked.text)")
            #expect(try await api.call(.post, "/access-requests/\(id)/approve", token: approver).object["state"] as? String == "approved")
            #expect(try await api.call(.post, "/access-requests/\(id)/checkout", token: holder).object["state"] as? String == "checkedOut")
            let seen = try #require(try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: holder).object["password"] as? String)
            #expect(seen == "E-Access-Old-1" && T.passwordWorks(s.user, seen))
            // The window runs out; nothing waits for a wall clock.
            clock.advance(14 * 60)
            #expect(try await h.custody.access.settleDue() == 0)
            clock.advance(61)
            #expect(try await h.custody.access.settleDue() == 1)
            let done = try await api.call(.get, "/access-requests/\(id)", token: holder).object
            #expect(done["state"] as? String == "checkedIn" && done["checkedInBy"] as? String == "system", "\(done)")
            let task = try await Fixtures.waitTask(api, try #require(done["taskId"] as? String), token: s.admin)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            #expect(try await api.call(.get, "/resources/\(s.rid)/accounts/\(s.aid)/password", token: holder).errorCode == "access_request_required")
            let rules2 = try await api.call(.delete, "/resources/\(s.rid)/accounts/\(s.aid)/access-control", token: s.admin)
            #expect(rules2.status == .noContent)
            let now = try await ResetEngineTests.stored(api, s)
            #expect(now != seen && T.passwordWorks(s.user, now), "the vault's new password logs in")
            #expect(!T.passwordWorks(s.user, seen), "the holder's password no longer does")
        }
    }
}
