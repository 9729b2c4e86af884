import Foundation
import TestSupport
import Testing

@testable import ServerTestSupport

extension LiveServerTests {
    /// The verbs that make the CLI equal to the API, on the real binary: who am I, user groups,
    /// edits and owners, shares, groups, a rotation run and an integrity run followed to their end,
    /// policies, resource types, settings, the cluster and the API document.
    @Test func theCLIVerbsOfEveryNoun() async throws {
        let s = ServerProcess()
        #expect(try s.start(), "\(s.stderr)")
        defer { s.stop() }
        let token = try #require(try adminToken(s))
        func ok(_ args: [String], stdin: String? = nil) throws -> String {
            let r = try cli(s, args, token: token, stdin: stdin)
            #expect(r.code == 0, "\(args.joined(separator: " ")): \(r.out) \(r.err)")
            return r.out
        }
        func obj(_ args: [String], stdin: String? = nil) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(try ok(args, stdin: stdin).utf8)) as? [String: Any], "\(args)")
        }
        #expect(try ok(["whoami"]).contains("\"admin\""))
        _ = try ok(["user", "create", "--username", "pa1", "--role", "passwordAdministrator"], stdin: "Pa-Initial-Pass-1\n")
        let users = try JSONSerialization.jsonObject(with: Data(try ok(["user", "list", "--json"]).utf8)) as? [[String: Any]] ?? []
        let pa = try #require(users.first { $0["username"] as? String == "pa1" }?["id"] as? String)
        #expect(try obj(["user", "update", pa, "--email", "pa1@example.test", "--json"])["email"] as? String == "pa1@example.test")
        #expect(try ok(["user", "show", pa]).contains("pa1"))
        let ug = try #require(try obj(["user-group", "create", "--name", "ops", "--member", "pa1", "--json"])["id"] as? String)
        _ = try ok(["user-group", "members", ug, "--member", "admin", "--member", "pa1"])
        let groups = try JSONSerialization.jsonObject(with: Data(try ok(["user-group", "list", "--json"]).utf8)) as? [[String: Any]] ?? []
        #expect(Set(groups.first { $0["name"] as? String == "ops" }?["members"] as? [String] ?? []) == ["admin", "pa1"], "\(groups)")

        let rid = try #require(try obj(["resource", "create", "--name", "verbs-host", "--dns-name", "verbs.example.test", "--type", "Linux", "--json"])["id"]
            as? String)
        #expect(try obj(["resource", "update", rid, "--description", "edited", "--location", "rack 4"])["location"] as? String == "rack 4")
        let aid = try #require(try obj(["account", "create", "--resource", rid, "--login-name", "svc", "--json"], stdin: "Svc-Pass-Verbs-1\n")["id"]
            as? String)
        #expect(try obj(["account", "update", "--resource", rid, aid, "--notes", "from the CLI"])["notes"] as? String == "from the CLI")
        _ = try ok(["share", "set", "--resource", rid, "--user-group", "ops=view"])
        #expect(try ok(["share", "show", "--resource", rid]).contains("ops"))
        let gid = try #require(try obj(["group", "create", "--name", "verbs-group", "--json"])["id"] as? String)
        _ = try ok(["group", "resources", gid, "--resource", rid])
        #expect(try ok(["group", "show", gid]).contains(rid))

        // Lists page: --limit stops early and names the cursor on stderr; --cursor goes on from there.
        for n in 2...4 { _ = try ok(["resource", "create", "--name", "verbs-host\(n)", "--dns-name", "v\(n).example.test", "--type", "Linux"]) }
        let firstTwo = try cli(s, ["resource", "list", "--name", "verbs-host", "--limit", "2", "--json"], token: token)
        let names = (try JSONSerialization.jsonObject(with: Data(firstTwo.out.utf8)) as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(names == ["verbs-host", "verbs-host2"], "\(firstTwo.out)")
        let cursor = try #require(firstTwo.err.components(separatedBy: "--cursor ").last?.trimmingCharacters(in: .whitespacesAndNewlines),
            "\(firstTwo.err)")
        let rest = try ok(["resource", "list", "--name", "verbs-host", "--cursor", cursor, "--json"])
        #expect(rest.contains("verbs-host3") && rest.contains("verbs-host4") && !rest.contains("\"verbs-host2\""), "\(rest)")
        #expect(try ok(["resource", "list", "--type", "Linux", "--group", gid]).contains("verbs-host"))
        let bad = try cli(s, ["resource", "list", "--cursor", "nonsense"], token: token)
        #expect(bad.code != 0 && bad.err.contains("invalid_cursor"), "\(bad.err)")

        // A rotation run followed to its end: the account has no reset config, so it fails, and says so.
        let rotation = TestTargets.scratch + "/rotation-\(UUID().uuidString).json"
        try #"{"schedule": {"kind": "days", "everyDays": 30, "at": "02:00", "timeZone": "UTC"}, "passwordChoice": "unique"}"#
            .write(toFile: rotation, atomically: true, encoding: .utf8)
        _ = try ok(["rotation", "set", "--group", gid, rotation])
        #expect(try ok(["rotation", "show", "--group", gid]).contains("everyDays"))
        let run = try cli(s, ["rotation", "run", "--group", gid, "--wait", "60"], token: token)
        #expect(run.code == 0 && run.out.contains("finished"), "\(run.out) \(run.err)")
        _ = try ok(["rotation", "remove", "--group", gid])
        let integrity = try cli(s, ["integrity", "run", "--wait", "60"], token: token)
        #expect(integrity.out.contains("finished"), "\(integrity.out) \(integrity.err)")
        #expect(try ok(["integrity", "report", "--csv"]).hasPrefix("resource,account,status"))
        #expect(try ok(["report", "expiry", "--within", "100"]).contains("verbs-host"))
        let runs = try ok(["rotation", "runs", "--group", gid])
        #expect(runs.contains("manual") && runs.contains("verbs-group") && runs.contains("0 failed"), "\(runs)")
        let integrityRuns = try JSONSerialization.jsonObject(with: Data(try ok(["integrity", "runs", "--limit", "5", "--json"]).utf8)) as? [[String: Any]]
        #expect(integrityRuns?.first?["trigger"] as? String == "manual", "\(String(describing: integrityRuns))")
        #expect(try ok(["integrity", "settings", "--daily-at", "03:30", "--time-zone", "UTC"]).contains("03:30"))

        let policy = TestTargets.scratch + "/policy-\(UUID().uuidString).json"
        try #"{"name": "Verbs", "minLength": 14, "maxLength": 20}"#.write(toFile: policy, atomically: true, encoding: .utf8)
        _ = try ok(["policy", "set", policy])
        #expect(try ok(["policy", "list"]).contains("Verbs"))
        _ = try ok(["resource-type", "add", "--name", "Verbs Box", "--plugin", "unix"])
        #expect(try ok(["resource-type", "list"]).contains("Verbs Box"))
        let settings = try JSONSerialization.jsonObject(with: Data(try ok(["password-settings", "--require-reason", "true"]).utf8)) as? [String: Any]
        #expect(settings.map { "\($0["requireReason"] ?? "")" } == "true", "\(String(describing: settings))")
        _ = try ok(["password-settings", "--require-reason", "false"])
        #expect(try ok(["cluster"]).contains("nodes"))
        #expect(try ok(["openapi"]).contains("\"openapi\""))
        #expect(try ok(["audit", "list", "--operation", "create_resource", "--json"]).contains("verbs-host"))
        _ = try ok(["resource", "owner", rid, "--username", "pa1"])
        _ = try ok(["group", "owner", gid, "--username", "pa1"])
        _ = try ok(["group", "delete", gid])
        _ = try ok(["user-group", "delete", ug])
        #expect(try ok(["logout"]).contains("signed out"))
        #expect(try cli(s, ["whoami"], token: token).code != 0, "the token is revoked")
    }
}
