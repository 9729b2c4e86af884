import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The access-control workflow through the API: rules and their inheritance, request, approval
/// (two people, never the requester), exclusive checkout and its queue, check-in by the holder,
/// forced, or at the deadline (test clock), the reset that follows, rotation and share removal.
@Suite struct AccessControlTests {
    struct World {
        let admin, approver, approver2, alice, bob, rid, aid: String
    }

    static func harness(_ plugin: ScriptedPlugin = ScriptedPlugin(), clock: TestClock? = nil, dataDir: String? = nil) async throws -> Harness {
        let base = try await Harness.make(clock: clock, dataDir: dataDir)
        let c = base.custody
        return Harness(custody: Custody(config: c.config, store: c.store, vault: c.vault, logger: c.logger, now: c.now,
            plugins: PluginRegistry(plugins: ["unix": plugin])), dataDir: base.dataDir)
    }

    /// Two approvers (administrators the provisioner made), two password users with view on a
    /// resource with one account whose reset works through the scripted plugin.
    static func world(_ api: API, rules: [String: Any]? = nil, resetConfig: Bool = true) async throws -> World {
        let admin = try await api.admin()
        let approver = try await api.user("appr1", role: "administrator", adminToken: admin)
        let approver2 = try await api.user("appr2", role: "administrator", adminToken: admin)
        let alice = try await api.user("alice", role: "passwordUser", adminToken: admin)
        let bob = try await api.user("bob", role: "passwordUser", adminToken: admin)
        let rid = try await api.resource("vault-\(UUID().uuidString.prefix(6))", token: admin)
        let aid = try await api.account(rid, "root", password: "Start-Pass-1", token: admin)
        if resetConfig { try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh"]) }
        let shared = try await api.call(.put, "/resources/\(rid)/shares", token: admin,
            json: ["users": [["username": "alice", "permission": "view"], ["username": "bob", "permission": "view"]]])
        #expect(shared.status == .noContent || shared.status == .ok, "\(shared.text)")
        if let rules {
            let set = try await api.call(.put, "/resources/\(rid)/access-control", token: admin, json: rules)
            #expect(set.status == .ok, "\(set.text)")
        }
        return World(admin: admin, approver: approver, approver2: approver2, alice: alice, bob: bob, rid: rid, aid: aid)
    }

    nonisolated(unsafe) static let basic: [String: Any] = ["approvers": ["users": ["appr1", "appr2"]], "resetOnCheckin": true, "maxMinutes": 60]

    static func ask(_ api: API, _ w: World, _ token: String, minutes: Int = 30) async throws -> String {
        let r = try await api.call(.post, "/resources/\(w.rid)/accounts/\(w.aid)/access-requests", token: token,
            json: ["reason": "maintenance", "minutes": minutes])
        #expect(r.status == .created, "\(r.text)")
        return try #require(r.object["id"] as? String)
    }

    static func step(_ api: API, _ id: String, _ name: String, _ token: String, _ body: [String: Any]? = nil) async throws -> Reply {
        try await api.call(.post, "/access-requests/\(id)/\(name)", token: token, json: body)
    }

    static func password(_ api: API, _ w: World, _ token: String) async throws -> Reply {
        try await api.call(.get, "/resources/\(w.rid)/accounts/\(w.aid)/password", token: token)
    }

    @Test func requestApproveCheckOutRetrieveCheckInAndTheResetThatFollows() async throws {
        let plugin = ScriptedPlugin()
        try await Self.harness(plugin).run { api in
            let w = try await Self.world(api, rules: Self.basic)
            let gated = try await Self.password(api, w, w.alice)
            #expect(gated.status == .forbidden && gated.errorCode == "access_request_required", "\(gated.text)")
            #expect(try await Self.password(api, w, w.admin).errorCode == "access_request_required", "the owner asks too")
            let id = try await Self.ask(api, w, w.alice)
            #expect(try await api.call(.get, "/access-requests?awaiting=me", token: w.approver).array.map { $0["id"] as? String } == [id])
            #expect(try await api.call(.get, "/access-requests?awaiting=me", token: w.alice).array.isEmpty)
            #expect(try await api.call(.get, "/access-requests/\(id)", token: w.bob).status == .ok, "bob sees the account, so its history")
            let stranger = try await api.user("carol", role: "passwordUser", adminToken: w.admin)
            #expect(try await api.call(.get, "/access-requests/\(id)", token: stranger).status == .notFound, "carol does not")
            let own = try await Self.step(api, id, "approve", w.alice)
            #expect(own.status == .forbidden, "\(own.text)")
            #expect(try await Self.step(api, id, "checkout", w.alice).errorCode == "not_approved")
            let approved = try await Self.step(api, id, "approve", w.approver, ["comment": "ok"])
            #expect(approved.object["state"] as? String == "approved", "\(approved.text)")
            #expect(try await Self.step(api, id, "checkout", w.bob).status == .forbidden, "only the requester checks out")
            let out = try await Self.step(api, id, "checkout", w.alice)
            #expect(out.object["state"] as? String == "checkedOut" && out.object["until"] != nil, "\(out.text)")
            #expect(try await Self.password(api, w, w.alice).object["password"] as? String == "Start-Pass-1")
            let other = try await Self.password(api, w, w.bob)
            #expect(other.status == .conflict && other.errorCode == "checked_out" && other.text.contains("alice"), "\(other.text)")
            let reset = try await api.call(.put, "/resources/\(w.rid)/accounts/\(w.aid)/password", token: w.admin, json: ["resetType": "remote"])
            #expect(reset.errorCode == "checked_out", "nobody resets it under the holder: \(reset.text)")
            let control = try await api.call(.get, "/resources/\(w.rid)/accounts/\(w.aid)/access-control", token: w.bob).object
            #expect((control["holders"] as? [[String: Any]])?.first?["user"] as? String == "alice" && control["inheritedFrom"] as? String == "resource")
            let back = try await Self.step(api, id, "checkin", w.alice)
            #expect(back.object["state"] as? String == "checkedIn", "\(back.text)")
            let task = try #require(back.object["taskId"] as? String)
            #expect(try await Fixtures.waitTask(api, task, token: w.alice)["state"] as? String == "succeeded")
            let now = try #require(try await Self.password(api, w, w.admin).errorCode == "access_request_required" ? "gated" : nil)
            #expect(now == "gated", "returned: the holder's access ends")
            #expect(try await Self.password(api, w, w.alice).errorCode == "access_request_required")
            #expect(plugin.passwordsTried.count == 1 && plugin.passwordsTried[0] != "Start-Pass-1", "the password changed on the target")
            let ops = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array.compactMap { $0["operation"] as? String }
            for op in ["access_request", "approve_access_request", "checkout_password", "retrieve_password", "checkin_password"] {
                #expect(ops.contains(op), "\(op) on the account's history: \(ops)")
            }
            let retrieval = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array.first {
                $0["operation"] as? String == "retrieve_password" && $0["outcome"] as? String == "success"
            }
            #expect((retrieval?["message"] as? String)?.contains("under access request \(id)") == true)
        }
    }

    @Test func twoApprovalsFromDistinctPeopleAndNeverFromSomeoneTheRequesterMade() async throws {
        try await Self.harness().run { api in
            var rules = Self.basic
            rules["approvalsRequired"] = 2
            let w = try await Self.world(api, rules: rules)
            let id = try await Self.ask(api, w, w.alice)
            let first = try await Self.step(api, id, "approve", w.approver)
            #expect(first.object["state"] as? String == "pending" && (first.object["approvals"] as? [Any])?.count == 1, "\(first.text)")
            #expect(try await Self.step(api, id, "approve", w.approver).errorCode == "already_approved")
            #expect(try await Self.step(api, id, "approve", w.approver2).object["state"] as? String == "approved")
            // Too few approvers for the rules.
            let few = try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin,
                json: ["approvers": ["users": ["appr1"]], "approvalsRequired": 2])
            #expect(few.errorCode == "not_enough_approvers", "\(few.text)")
            let user = try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: ["approvers": ["users": ["alice"]]])
            #expect(user.errorCode == "invalid_approver", "\(user.text)")
            // An approver the requester created is no second person.
            _ = try await api.user("madebyroot", role: "passwordAdministrator", createdBy: w.admin)
            let made = try await api.call(.post, "/auth/login", json: ["username": "madebyroot", "password": API.userPassword + "x"])
            let madeToken = try #require(made.object["token"] as? String)
            try await api.call(.put, "/resources/\(w.rid)/access-control", token: w.admin, json: ["approvers": ["users": ["madebyroot", "appr1"]]])
            try await api.call(.put, "/resources/\(w.rid)/shares", token: w.admin, json: ["users": [["username": "alice", "permission": "view"],
                ["username": "bob", "permission": "view"], ["username": "madebyroot", "permission": "view"]]])
            let rootAsk = try await Self.ask(api, w, w.admin)
            let refused = try await Self.step(api, rootAsk, "approve", madeToken)
            #expect(refused.status == .forbidden && refused.text.contains("not an approver of this request"),
                "one the requester made is no approver of the request: \(refused.text)")
            #expect(try await Self.step(api, rootAsk, "reject", w.approver, ["comment": "no"]).object["state"] as? String == "rejected")
            let denied = try await api.call(.get, "/audit?accountId=\(w.aid)", token: w.admin).array.filter {
                $0["operation"] as? String == "approve_access_request" && $0["outcome"] as? String == "denied"
            }
            #expect(denied.count == 1, "a refused approval is audited")
        }
    }

    @Test func exclusiveUseQueuesTheNextRequestUntilCheckIn() async throws {
        try await Self.harness().run { api in
            var rules = Self.basic
            rules["resetOnCheckin"] = false
            let w = try await Self.world(api, rules: rules)
            let first = try await Self.ask(api, w, w.alice)
            try await Self.step(api, first, "approve", w.approver)
            try await Self.step(api, first, "checkout", w.alice)
            let second = try await Self.ask(api, w, w.bob)
            let waiting = try await Self.step(api, second, "approve", w.approver)
            #expect(waiting.object["state"] as? String == "pending" && waiting.object["waitingForHolder"] as? Bool == true, "\(waiting.text)")
            #expect(try await Self.step(api, second, "checkout", w.bob).errorCode == "not_approved")
            let again = try await api.call(.post, "/resources/\(w.rid)/accounts/\(w.aid)/access-requests", token: w.alice, json: ["reason": "more"])
            #expect(again.errorCode == "request_exists", "\(again.text)")
            let back = try await Self.step(api, first, "checkin", w.alice)
            #expect(back.object["state"] as? String == "checkedIn" && back.object["taskId"] == nil, "no reset by these rules: \(back.text)")
            #expect(try await api.call(.get, "/access-requests/\(second)", token: w.bob).object["state"] as? String == "approved", "its turn")
            #expect(try await Self.step(api, second, "checkout", w.bob).object["state"] as? String == "checkedOut")
            #expect(try await Self.password(api, w, w.bob).object["password"] as? String == "Start-Pass-1")
            #expect(try await Self.password(api, w, w.alice).errorCode == "checked_out")
        }
    }
}
