import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Check-ins that are not the holder's: forced by an administrator, at the window's end (test
/// clock, across a restart), and what rotation, a failed reset and the end of a share do.
@Suite struct AccessControlDeadlineTests {
    typealias T = AccessControlTests

    @Test func aForcedCheckInTakesAnAdministratorAndAReason() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api, rules: T.basic)
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            #expect(try await T.step(api, id, "checkin", w.bob, ["reason": "mine now"]).status == .forbidden, "a password user forces nothing")
            #expect(try await T.step(api, id, "checkin", w.admin).errorCode == "reason_required")
            let forced = try await T.step(api, id, "checkin", w.admin, ["reason": "incident closed"])
            #expect(forced.object["state"] as? String == "checkedIn" && forced.object["checkedInBy"] as? String == "admin", "\(forced.text)")
            #expect(try await T.password(api, w, w.alice).errorCode == "access_request_required")
            let audit = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array
            #expect(audit.contains { ($0["message"] as? String)?.contains("checked in forced by admin") == true }, "\(audit)")
        }
    }

    @Test func theServerChecksInAtTheDeadlineEvenAfterARestartAndResets() async throws {
        let clock = TestClock()
        let plugin = ScriptedPlugin()
        let first = try await T.harness(plugin, clock: clock)
        let (w, id) = try await first.run { api in
            let w = try await T.world(api, rules: T.basic)
            let id = try await T.ask(api, w, w.alice, minutes: 5)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            #expect(try await first.custody.access.settleDue() == 0, "not yet")
            return (w, id)
        }
        // A new server on the same data directory finds the checkout and its deadline.
        let second = try await T.harness(plugin, clock: clock, dataDir: first.dataDir)
        try await second.run { api in
            #expect(try await api.call(.get, "/access-requests/\(id)", token: w.alice).object["state"] as? String == "checkedOut")
            #expect(try await second.custody.access.store.nextDeadline() != nil)
            clock.advance(5 * 60 + 1)
            #expect(try await second.custody.access.settleDue() == 1)
            let r = try await api.call(.get, "/access-requests/\(id)", token: w.alice).object
            #expect(r["state"] as? String == "checkedIn" && r["checkedInBy"] as? String == "system", "\(r)")
            let task = try #require(r["taskId"] as? String)
            #expect(try await Fixtures.waitTask(api, task, token: w.admin)["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 1)
        }
    }

    @Test func unapprovedAndUnusedRequestsGoVoid() async throws {
        let clock = TestClock()
        try await T.harness(clock: clock).run { api in
            var rules = T.basic
            rules["pendingMinutes"] = 10
            let w = try await T.world(api, rules: rules)
            let pending = try await T.ask(api, w, w.alice)
            let unused = try await T.ask(api, w, w.bob)
            try await T.step(api, unused, "approve", w.approver)
            clock.advance(11 * 60)
            _ = try await api.harness.custody.access.settleDue()
            #expect(try await api.call(.get, "/access-requests/\(pending)", token: w.alice).object["state"] as? String == "expired")
            #expect(try await api.call(.get, "/access-requests/\(unused)", token: w.bob).object["state"] as? String == "expired")
            #expect(try await T.step(api, unused, "checkout", w.bob).errorCode == "invalid_state")
        }
    }

    @Test func aRotationSkipsACheckedOutAccountAndTheCheckInCatchesUp() async throws {
        let plugin = ScriptedPlugin()
        try await T.harness(plugin).run { api in
            var rules = T.basic
            rules["resetOnCheckin"] = false
            let w = try await T.world(api, rules: rules)
            let g = try await api.call(.post, "/groups", token: w.admin, json: ["name": "rot-\(UUID().uuidString.prefix(6))", "resourceIds": [w.rid]])
            let gid = try #require(g.object["id"] as? String)
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            let start = try await api.call(.post, "/groups/\(gid)/rotation/run", token: w.admin)
            let run = try await api.finishedRun("/rotation-runs/\(try #require(start.object["runId"] as? String))", token: w.admin)
            let line = (run["accounts"] as? [[String: Any]])?.first { $0["accountId"] as? String == w.aid }
            #expect((line?["message"] as? String)?.contains("checked out by alice") == true, "\(run)")
            #expect(plugin.passwordsTried.isEmpty)
            let back = try await T.step(api, id, "checkin", w.alice)
            let task = try #require(back.object["taskId"] as? String, "the put-off rotation: \(back.text)")
            #expect(try await Fixtures.waitTask(api, task, token: w.admin)["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 1)
        }
    }

    @Test func anExpiryResetWaitsForTheCheckIn() async throws {
        let clock = TestClock()
        let plugin = ScriptedPlugin()
        let h = try await T.harness(plugin, clock: clock)
        try await h.run { api in
            var rules = T.basic
            (rules["resetOnCheckin"], rules["maxMinutes"]) = (false, 4000)
            let w = try await T.world(api, rules: rules)
            try await api.call(.post, "/policies", token: w.admin, json: ["name": "OneDay", "minLength": 10, "maxLength": 20, "maxAgeDays": 1])
            try await api.call(.patch, "/resources/\(w.rid)", token: w.admin, json: ["passwordPolicy": "OneDay"])
            let g = try await api.call(.post, "/groups", token: w.admin, json: ["name": "exp-\(UUID().uuidString.prefix(6))", "resourceIds": [w.rid]])
            try await api.call(.put, "/groups/\(try #require(g.object["id"] as? String))/rotation", token: w.admin, json: [
                "schedule": ["kind": "never", "at": "01:00"], "passwordChoice": "unique", "resetOnExpiry": true])
            let id = try await T.ask(api, w, w.alice, minutes: 4000)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            clock.advance(2 * 86400)
            #expect(try await h.custody.expiry.run() == [w.aid])
            let message = try await h.custody.store.read { db in
                try String.fetchOne(db, sql: "SELECT message FROM audit WHERE operation = 'password_expired'")
            }
            #expect(message?.contains("checked out by alice") == true && message?.contains("reset queued") == false, "\(message ?? "")")
            let login = try await api.call(.post, "/auth/login", json: ["username": "alice", "password": API.userPassword + "x"])
            let alice = try #require(login.object["token"] as? String)
            let back = try await T.step(api, id, "checkin", alice)
            let task = try #require(back.object["taskId"] as? String, "the put-off expiry reset: \(back.text)")
            #expect(try await Fixtures.waitTask(api, task, token: alice)["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 1)
        }
    }

    @Test func aCheckInWhoseResetCannotRunFlagsTheAccount() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api, rules: T.basic, resetConfig: false)
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            let back = try await T.step(api, id, "checkin", w.alice)
            #expect(back.object["state"] as? String == "checkedIn" && back.object["taskId"] == nil && back.object["resetProblem"] != nil, "\(back.text)")
            let control = try await api.call(.get, "/resources/\(w.rid)/accounts/\(w.aid)/access-control", token: w.admin).object
            #expect((control["attention"] as? String)?.contains("may still know the password") == true, "\(control)")
            let audit = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array
            #expect(audit.contains { $0["operation"] as? String == "checkin_password" && $0["outcome"] as? String == "failure" })
        }
    }

    @Test func theEndOfAShareResetsTheAccountsItCovered() async throws {
        let plugin = ScriptedPlugin()
        try await T.harness(plugin).run { api in
            let w = try await T.world(api, rules: ["enabled": false, "resetOnShareRemoval": true])
            let cut = try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "view"]]])
            #expect(cut.status.code < 300, "\(cut.text)")
            let queued = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array.first {
                $0["operation"] as? String == "queue_reset" && ($0["message"] as? String)?.contains("share of bob ended") == true
            }
            let message = try #require(queued?["message"] as? String)
            let task = String(try #require(message.split(separator: " ").last))
            #expect(try await Fixtures.waitTask(api, task, token: w.admin)["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 1)
            #expect(try await T.password(api, w, w.alice).status == .ok, "access control is off: alice reads it directly")
        }
    }

    @Test func rulesAreInheritedFromResourceThenGroupAndBadRulesAreRefused() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api)
            let path = "/resources/\(w.rid)/accounts/\(w.aid)/access-control"
            #expect(try await api.call(.get, path, token: w.alice).object["enabled"] as? Bool == false)
            let g = try await api.call(.post, "/groups", token: w.admin, json: ["name": "gac-\(UUID().uuidString.prefix(6))", "resourceIds": [w.rid]])
            let gid = try #require(g.object["id"] as? String)
            #expect(try await api.call(.put, "/groups/\(gid)/access-control", token: w.admin, json: T.basic).status == .ok)
            let fromGroup = try await api.call(.get, path, token: w.alice).object
            #expect((fromGroup["inheritedFrom"] as? String)?.hasPrefix("group gac-") == true && fromGroup["enabled"] as? Bool == true, "\(fromGroup)")
            #expect(try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: ["enabled": false]).status == .ok)
            #expect(try await api.call(.get, path, token: w.alice).object["inheritedFrom"] as? String == "resource")
            #expect(try await T.password(api, w, w.alice).status == .ok, "the resource's rules turn it off")
            let own = try await api.call(.put, path, token: w.admin, json: T.basic)
            #expect(own.object["setHere"] as? Bool == true && (own.object["approvers"] as? [String: Any])?["users"] as? [String] == ["appr1", "appr2"])
            #expect(try await T.password(api, w, w.alice).errorCode == "access_request_required")
            #expect(try await api.call(.delete, path, token: w.admin).status == .noContent)
            #expect(try await T.password(api, w, w.alice).status == .ok)
            for (body, code) in [
                (["approvers": ["users": ["nobody"]]], "unknown_user"),
                (["approvers": ["userGroups": ["nogroup"]]], "unknown_user_group"),
                (["approvalsRequired": 3, "approvers": ["users": ["appr1"]]], "invalid_field"),
                (["autoApprove": ["windows": [["from": "25:00", "to": "18:00"]]], "approvers": ["users": ["appr1"]]], "invalid_field"),
                (["autoApprove": ["timeZone": "Mars/Olympus"], "approvers": ["users": ["appr1"]]], "invalid_field"),
                (["resetOnShareRemoval": true, "approvers": ["users": ["appr1"]]], "invalid_field"),
                (["approvers": ["users": ["appr1"]], "colour": "red"], "unknown_field"),
            ] as [([String: Any], String)] {
                let r = try await api.call(.put, path, token: w.admin, json: body)
                #expect(r.status == .badRequest && r.errorCode == code, "\(body): \(r.text)")
            }
            #expect(try await api.call(.put, path, token: w.alice, json: T.basic).status == .forbidden, "a password user sets no rules")
        }
    }

    @Test func whoMayAskAndWhatTheRulesDemand() async throws {
        try await T.harness().run { api in
            var rules = T.basic
            rules["requireTicket"] = true
            let w = try await T.world(api, rules: rules)
            let path = "/resources/\(w.rid)/accounts/\(w.aid)/access-requests"
            let auditor = try await api.user("aud", role: "passwordAuditor", adminToken: w.admin)
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "view"],
                ["username": "aud", "permission": "view"]]])
            #expect(try await api.call(.post, path, token: auditor, json: ["reason": "x", "ticketId": "T-1"]).status == .forbidden)
            #expect(try await api.call(.post, path, token: w.bob, json: ["reason": "x", "ticketId": "T-1"]).status == .notFound, "no longer shared")
            #expect(try await api.call(.post, path, token: w.alice, json: ["reason": "x"]).errorCode == "ticket_required")
            #expect(try await api.call(.post, path, token: w.alice, json: ["reason": "x", "ticketId": "T-1", "minutes": 61]).errorCode == "invalid_field")
            #expect(try await api.call(.post, path, token: w.alice, json: ["reason": " ", "ticketId": "T-1"]).errorCode == "reason_required")
            let ok = try await api.call(.post, path, token: w.alice, json: ["reason": "x", "ticketId": "T-1"])
            #expect(ok.status == .created && ok.object["minutes"] as? Int == 60, "the rules' maximum by default: \(ok.text)")
            #expect(try await api.call(.get, "/access-requests?mine=true", token: w.alice).array.count == 1)
            #expect(try await api.call(.get, "/access-requests", token: w.bob).array.isEmpty, "bob sees none")
            #expect(try await api.call(.get, "/access-requests?awaiting=you", token: w.bob).status == .badRequest)
        }
    }

    @Test func exemptUsersAndAutoApproveWindowsSkipTheApprovalNotTheCheckout() async throws {
        try await T.harness().run { api in
            var rules = T.basic
            rules["exempt"] = ["users": ["alice"]]
            let w = try await T.world(api, rules: rules)
            let r = try await api.call(.post, "/resources/\(w.rid)/accounts/\(w.aid)/access-requests", token: w.alice, json: ["reason": "x"])
            #expect(r.object["state"] as? String == "approved" && r.object["autoApproved"] as? Bool == true, "\(r.text)")
            #expect(try await T.password(api, w, w.alice).errorCode == "access_request_required", "still checked out first")
            var always = T.basic
            always["autoApprove"] = ["always": true]
            always["approvers"] = ["users": [String]()]
            #expect(try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: always).status == .ok)
            let b = try await api.call(.post, "/resources/\(w.rid)/accounts/\(w.aid)/access-requests", token: w.bob, json: ["reason": "y"])
            #expect(b.object["state"] as? String == "pending" && b.object["waitingForHolder"] as? Bool == true, "alice's turn first: \(b.text)")
        }
        let window = AutoApprove(windows: [.init(days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "18:00")], timeZone: "Europe/Paris")
        let iso = ISO8601DateFormatter()
        #expect(window.covers(iso.date(from: "2026-12-07T08:30:00Z")!), "Monday 09:30 in Paris")
        #expect(!window.covers(iso.date(from: "2026-12-07T17:30:00Z")!), "Monday 18:30 in Paris")
        #expect(!window.covers(iso.date(from: "2026-12-06T10:00:00Z")!), "Sunday")
        let night = AutoApprove(windows: [.init(from: "22:00", to: "06:00")], timeZone: "UTC")
        #expect(night.covers(iso.date(from: "2026-12-06T23:00:00Z")!) && night.covers(iso.date(from: "2026-12-06T05:59:00Z")!))
        #expect(!night.covers(iso.date(from: "2026-12-06T06:00:00Z")!))
    }
}
