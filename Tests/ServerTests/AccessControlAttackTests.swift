import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

/// What a review attacking the workflow found, held closed: a chosen password without a
/// checkout, a checkout past its end, exclusivity after the rules change, approvers who made one
/// another, the holder's own reset hiding a failed check-in, a crafted cursor.
@Suite struct AccessControlAttackTests {
    typealias T = AccessControlTests

    @Test func aChosenPasswordTakesACheckoutAndAGeneratedOneDoesNot() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api, rules: T.basic)
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "modify"],
                ["username": "bob", "permission": "view"]]])
            let path = "/resources/\(w.rid)/accounts/\(w.aid)/password"
            for body in [["resetType": "local", "newPassword": "Alice-Knows-This-1"], ["resetType": "remote", "newPassword": "Alice-Knows-This-1"]] {
                let r = try await api.call(.put, path, token: w.alice, json: body)
                #expect(r.status == .forbidden && r.errorCode == "access_request_required", "\(body): \(r.text)")
            }
            let generated = try await api.call(.put, path, token: w.alice, json: ["resetType": "remote"])
            #expect(generated.status == .accepted, "nobody learns a generated password: \(generated.text)")
            _ = try await Fixtures.waitTask(api, try #require(generated.object["taskId"] as? String), token: w.admin)
        }
    }

    @Test func aCheckoutPastItsEndGivesNothingBeforeTheServerChecksItIn() async throws {
        let clock = TestClock()
        try await T.harness(clock: clock).run { api in
            var rules = T.basic
            rules["pendingMinutes"] = 10
            let w = try await T.world(api, rules: rules)
            let id = try await T.ask(api, w, w.alice, minutes: 5)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            clock.advance(301)
            #expect(try await T.password(api, w, w.alice).errorCode == "access_request_required", "the window is over")
            let late = try await T.ask(api, w, w.bob)
            clock.advance(11 * 60)
            #expect(try await T.step(api, late, "approve", w.approver).errorCode == "invalid_state", "void already, if not yet settled")
        }
    }

    @Test func exclusiveUseHoldsWhenTheRulesChangeAndAPendingRequestCanBeWithdrawn() async throws {
        try await T.harness().run { api in
            var rules = T.basic
            rules["resetOnCheckin"] = false
            let w = try await T.world(api, rules: rules)
            let first = try await T.ask(api, w, w.alice)
            try await T.step(api, first, "approve", w.approver)
            try await T.step(api, first, "checkout", w.alice)
            rules["exclusive"] = false
            #expect(try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: rules).status == .ok)
            let second = try await T.ask(api, w, w.bob)
            let approved = try await T.step(api, second, "approve", w.approver)
            #expect(approved.object["state"] as? String == "pending" && approved.object["waitingForHolder"] as? Bool == true, "\(approved.text)")
            #expect(try await T.password(api, w, w.bob).errorCode == "checked_out")
            try await T.step(api, first, "checkin", w.alice)
            #expect(try await api.call(.get, "/access-requests/\(second)", token: w.bob).object["state"] as? String == "approved")
            // A request that waits can be withdrawn by its requester, and only by them.
            let third = try await T.ask(api, w, w.alice)
            #expect(try await T.step(api, third, "checkin", w.admin, ["reason": "no"]).errorCode == "invalid_state")
            #expect(try await T.step(api, third, "checkin", w.alice).object["state"] as? String == "expired")
        }
    }

    @Test func twoApproversWhoMadeOneAnotherAreOnePerson() async throws {
        try await T.harness().run { api in
            var rules = T.basic
            rules["approvalsRequired"] = 2
            let w = try await T.world(api, rules: rules)
            // appr1 (an administrator) makes a password administrator and names it an approver.
            _ = try await api.user("puppet", role: "passwordAdministrator", createdBy: w.approver)
            let login = try await api.call(.post, "/auth/login", json: ["username": "puppet", "password": API.userPassword + "x"])
            let puppet = try #require(login.object["token"] as? String)
            rules["approvers"] = ["users": ["appr1", "puppet"]]
            let pair = try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: rules)
            #expect(pair.errorCode == "not_enough_approvers", "one made the other: no two independent approvers: \(pair.text)")
            rules["approvers"] = ["users": ["appr1", "appr2", "puppet"]]
            #expect(try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: rules).status == .ok)
            for order in [[puppet, w.approver], [w.approver, puppet]] {
                let id = try await T.ask(api, w, order == [puppet, w.approver] ? w.alice : w.bob)
                #expect(try await T.step(api, id, "approve", order[0]).status == .ok)
                let second = try await T.step(api, id, "approve", order[1])
                #expect(second.status == .forbidden && second.text.contains("independent"), "\(second.text)")
                let third = try await T.step(api, id, "approve", w.approver2).object
                #expect((third["approvals"] as? [Any])?.count == 2, "an independent second approval counts: \(third)")
            }
        }
    }

    @Test func theHoldersOwnResetDoesNotClearAFailedCheckIn() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api, rules: T.basic, resetConfig: false)
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "modify"]]])
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            #expect(try await T.step(api, id, "checkin", w.alice).object["resetProblem"] != nil)
            // A succeeded reset the holder asked for, with a password they chose, written as the engine would.
            try await api.harness.custody.store.write { db in
                let r = try #require(try ResourceRecord.fetchOne(db, key: w.rid)), a = try #require(try AccountRecord.fetchOne(db, key: w.aid))
                var t = try api.harness.custody.newTask(.reset, r, a, by: "alice", reason: nil, db)
                (t.state, t.requestedById, t.newPasswordGiven, t.finishedAt) = (.succeeded, try #require(try String.fetchOne(db,
                    sql: "SELECT id FROM users WHERE username = 'alice'")), true, Date())
                try t.insert(db)
            }
            let control = try await api.call(.get, "/resources/\(w.rid)/accounts/\(w.aid)/access-control", token: w.admin).object
            #expect(control["attention"] != nil, "still flagged: \(control)")
        }
    }

    @Test func theEndOfAShareWaitsForTheHoldersCheckIn() async throws {
        let plugin = ScriptedPlugin()
        try await T.harness(plugin).run { api in
            var rules = T.basic
            (rules["resetOnCheckin"], rules["resetOnShareRemoval"]) = (false, true)
            let w = try await T.world(api, rules: rules)
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "view"]]])
            let audit = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array
            #expect(audit.contains { ($0["message"] as? String)?.contains("reset at the check-in") == true }, "\(audit)")
            #expect(plugin.passwordsTried.isEmpty, "not under the holder")
            let back = try await T.step(api, id, "checkin", w.alice)
            let task = try #require(back.object["taskId"] as? String, "\(back.text)")
            #expect(try await Fixtures.waitTask(api, task, token: w.admin)["state"] as? String == "succeeded")
        }
    }

    @Test func aHolderWhoseShareEndsGivesThePasswordBackAtOnce() async throws {
        let plugin = ScriptedPlugin()
        try await T.harness(plugin).run { api in
            var rules = T.basic
            (rules["resetOnCheckin"], rules["resetOnShareRemoval"]) = (false, true)
            let w = try await T.world(api, rules: rules)
            let id = try await T.ask(api, w, w.alice)
            try await T.step(api, id, "approve", w.approver)
            try await T.step(api, id, "checkout", w.alice)
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "bob", "permission": "view"]]])
            let r = try await api.call(.get, "/access-requests/\(id)", token: w.admin).object
            #expect(r["state"] as? String == "checkedIn" && r["taskId"] != nil, "\(r)")
            #expect(try await Fixtures.waitTask(api, try #require(r["taskId"] as? String), token: w.admin)["state"] as? String == "succeeded")
            #expect(try await T.password(api, w, w.bob).errorCode == "access_request_required", "free again, under the rules")
        }
    }

    @Test func aStepTakesAnEmptyBodyWhateverItsContentType() async throws {
        try await T.harness().run { api in
            let w = try await T.world(api, rules: T.basic)
            let id = try await T.ask(api, w, w.alice)
            let empty = try await api.call(.post, "/access-requests/\(id)/approve", token: w.approver, raw: "")
            #expect(empty.object["state"] as? String == "approved", "\(empty.text)")
            let wrong = try await api.call(.post, "/access-requests/\(id)/checkout", token: w.alice, raw: "comment=x", contentType: "text/plain")
            #expect(wrong.status == .unsupportedMediaType, "\(wrong.text)")
            let bad = try await api.call(.post, "/access-requests/\(id)/checkout", token: w.alice, raw: "{", contentType: "application/json")
            #expect(bad.status == .badRequest)
        }
    }

    @Test func aCraftedCursorIsRefusedNotAnError() async throws {
        try await T.harness().run { api in
            let admin = try await api.admin()
            for key in ["not-a-time", "1e400", "-5", "nan"] {
                let cursor = PageCursor(key: key, id: "x").token
                let r = try await api.call(.get, "/access-requests?cursor=\(cursor)", token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_cursor", "\(key): \(r.text)")
            }
        }
    }

    @Test func aMigrationToPostgreSQLCopiesEveryTable() async throws {
        let h = try await Harness.make()
        let tables = try await h.custody.store.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'")
        }
        #expect(Set(tables) == Set(PGImport.tables), "not copied: \(Set(tables).subtracting(PGImport.tables))")
    }
}
