import Foundation
import TestSupport
import Testing

@testable import ServerTestSupport

/// The access-control workflow through the real binary and its CLI: rules, request, the
/// approver's queue, approval, checkout, retrieval by the holder only, check-in.
extension LiveServerTests {
    /// One API call over HTTPS (curl) for the setup the CLI does not need to cover here.
    func api(_ s: ServerProcess, _ token: String, _ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        var args = ["-s", "--cacert", s.caFile, "-X", method, "-H", "Authorization: Bearer \(token)"]
        if let body {
            args += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
            let data = try JSONSerialization.data(withJSONObject: body)
            let r = try runCommand("/usr/bin/curl", args + [s.url + "/api/v1" + path], stdin: String(decoding: data, as: UTF8.self))
            return (try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]) ?? [:]
        }
        let r = try runCommand("/usr/bin/curl", args + [s.url + "/api/v1" + path])
        return (try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]) ?? [:]
    }

    /// A user made through the API, signed in through the CLI with its forced change done; its token.
    func liveUser(_ s: ServerProcess, _ admin: String, _ name: String, role: String) throws -> String {
        let made = try api(s, admin, "POST", "/users", ["username": name, "password": "Initial-Pass-4417!", "role": role])
        #expect(made["id"] != nil, "\(made)")
        let token = try json(try cli(s, ["login", "--username", name, "--json"], stdin: "Initial-Pass-4417!\n"))["token"] as? String
        #expect(try cli(s, ["user", "password"], token: token, stdin: "Initial-Pass-4417!\nChanged-Pass-8823!\n").code == 0)
        return try #require(try json(try cli(s, ["login", "--username", name, "--json"], stdin: "Changed-Pass-8823!\n"))["token"] as? String)
    }

    @Test func theAccessWorkflowThroughTheCLI() async throws {
        let s = ServerProcess()
        #expect(try s.start(), "server did not start: \(s.stderr)")
        defer { s.stop() }
        let admin = try #require(try adminToken(s))
        let approver = try liveUser(s, admin, "cli-approver", role: "administrator")
        let holder = try liveUser(s, admin, "cli-holder", role: "passwordUser")
        let other = try liveUser(s, admin, "cli-other", role: "passwordUser")
        let rid = try #require(try api(s, admin, "POST", "/resources", ["name": "acl-live", "dnsName": "acl.example.test", "type": "Linux"])["id"] as? String)
        let aid = try #require(try api(s, admin, "POST", "/resources/\(rid)/accounts", ["loginName": "dba", "password": "Dba-Live-Pass-1"])["id"] as? String)
        _ = try api(s, admin, "PUT", "/resources/\(rid)/shares", ["users": [["username": "cli-holder", "permission": "view"],
            ["username": "cli-other", "permission": "view"]]])

        let set = try cli(s, ["access", "policy", "set", "--resource", rid, "--approver", "cli-approver", "--max-minutes", "60",
            "--auto-approve-window", "sat-sun,00:00-00:01", "--time-zone", "UTC"], token: admin)
        #expect(set.code == 0, "\(set.out) \(set.err)")
        let shown = try json(try cli(s, ["access", "policy", "show", "--resource", rid, "--account", aid], token: holder))
        #expect(shown["inheritedFrom"] as? String == "resource" && shown["enabled"] as? Bool == true, "\(shown)")
        let bad = try cli(s, ["access", "policy", "set", "--resource", rid, "--approver", "cli-holder"], token: admin)
        #expect(bad.code != 0 && bad.err.contains("invalid_approver"), "\(bad.err)")

        let gated = try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: holder)
        #expect(gated.code != 0 && gated.err.contains("access_request_required"), "\(gated.err)")
        let asked = try json(try cli(s, ["access", "request", "--resource", rid, "--account", aid, "--reason", "quarterly patch", "--minutes", "20",
            "--json"], token: holder))
        let id = try #require(asked["id"] as? String, "\(asked)")
        let queue = try cli(s, ["access", "list", "--awaiting"], token: approver)
        #expect(queue.out.contains(id) && queue.out.contains("quarterly patch"), "\(queue.out) \(queue.err)")
        let own = try cli(s, ["access", "approve", id], token: holder)
        #expect(own.code != 0, "the requester cannot approve: \(own.out)")
        #expect(try cli(s, ["access", "approve", id, "--comment", "go ahead"], token: approver).code == 0)
        let out = try cli(s, ["access", "checkout", id, "--json"], token: holder)
        #expect(try json(out)["state"] as? String == "checkedOut", "\(out.out) \(out.err)")
        let got = try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: holder)
        #expect(got.out.trimmingCharacters(in: .whitespacesAndNewlines) == "Dba-Live-Pass-1", "\(got.err)")
        let blocked = try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: other)
        #expect(blocked.code != 0 && blocked.err.contains("checked_out") && blocked.err.contains("cli-holder"), "\(blocked.err)")
        let back = try json(try cli(s, ["access", "checkin", id, "--json"], token: holder))
        #expect(back["state"] as? String == "checkedIn", "\(back)")
        let mine = try cli(s, ["access", "list", "--mine", "--json"], token: holder)
        #expect(((try JSONSerialization.jsonObject(with: Data(mine.out.utf8))) as? [[String: Any]])?.first?["state"] as? String == "checkedIn")
        #expect(try cli(s, ["access", "policy", "remove", "--resource", rid], token: admin).code == 0)
        #expect(try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: other).code == 0, "no rules: read directly")
        #expect(s.stop() == 0)
        let verify = try runCommand(bin, ["audit", "verify", "--data-dir", s.dataDir])
        #expect(verify.code == 0, "\(verify.out) \(verify.err)")
    }
}
