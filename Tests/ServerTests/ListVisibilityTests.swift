import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// "Sees only what is shared": every list, read by a password administrator who holds one resource
/// and one account of another, names nothing else; read by an overseer (super-administrator,
/// administrator or auditor) it does name the rest, so no row passes on an empty list.
@Suite struct ListVisibilityTests {
    /// Ids the limited caller may see and ids it must not.
    struct World: Sendable {
        let seen, hidden: [String]
        let partial, sharedRun, hiddenRun, integrityRun: String
    }

    /// GET routes that are not lists, or are lists only overseers reach (the matrix covers those).
    static let notLists: Set<String> = [
        "/auth/me", "/resources/:rid", "/resources/:rid/accounts/:aid", "/resources/:rid/accounts/:aid/password",
        "/resources/:rid/reset-config", "/tasks/:tid", "/groups/:gid", "/groups/:gid/rotation", "/settings/passwords",
        "/settings/integrity", "/settings/audit-alerts", "/settings/report-schedule", "/settings/notifications", "/settings/directory", "/users", "/users/:uid", "/listeners", "/listeners/:lid",
        "/agents", "/notifications/events", "/notifications/templates/:event", "/policies", "/resource-types", "/dialects",
        "/resources/:rid/shares", "/groups/:gid/shares", "/resources/:rid/accounts/:aid/shares", "/cluster",
        // Names no account: its counts are checked in the test itself.
        "/integrity-runs",
        // Rules of one object; requests by person (made or to decide), held to that by AccessControlTests.
        "/resources/:rid/accounts/:aid/access-control", "/resources/:rid/access-control", "/groups/:gid/access-control",
        "/access-requests", "/access-requests/:qid",
        // Files of the server, super-administrators only (BackupTests).
        "/backups", "/audit/archives", "/audit/archives/:name",
        // A stream of /audit's rows under the same scope (AuditLifecycleTests).
        "/audit/export",
        // One account's versions (PasswordHistoryTests: only to whoever may see the account).
        "/resources/:rid/accounts/:aid/history",
        // Counts by user and day under /audit's scope, naming no object (ReportsTests).
        "/reports/activity",
    ]

    /// Each list, with the ids of the objects it names.
    static let lists: [String: @Sendable (API, String, World) async throws -> [String]] = [
        "/resources": { api, t, _ in try await api.call(.get, "/resources", token: t).array.compactMap { $0["id"] as? String } },
        "/resources/:rid/accounts": { api, t, w in
            try await api.call(.get, "/resources/\(w.partial)/accounts", token: t).array.compactMap { $0["id"] as? String }
        },
        "/groups": { api, t, _ in try await api.call(.get, "/groups", token: t).array.compactMap { $0["id"] as? String } },
        "/audit": { api, t, _ in
            try await api.call(.get, "/audit?limit=10000", token: t).array.flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/tasks": { api, t, _ in
            try await api.call(.get, "/tasks?mine=false", token: t).array.flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/reports/integrity": { api, t, _ in
            try await api.call(.get, "/reports/integrity", token: t).object["accounts"].map { ($0 as? [[String: Any]]) ?? [] }!
                .flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/integrity-runs/:id": { api, t, w in
            ((try await api.call(.get, "/integrity-runs/\(w.integrityRun)", token: t).object["accounts"] as? [[String: Any]]) ?? [])
                .flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/rotation-runs/:id": { api, t, w in
            var ids: [String] = []
            for run in [w.sharedRun, w.hiddenRun] {
                let r = try await api.call(.get, "/rotation-runs/\(run)", token: t)
                guard r.status == .ok else { continue }
                ids.append(run)
                ids += ((r.object["accounts"] as? [[String: Any]]) ?? []).compactMap { $0["accountId"] as? String }
            }
            return ids
        },
        "/reports/inventory": { api, t, _ in
            try await api.call(.get, "/reports/inventory", token: t).object["accounts"].map { ($0 as? [[String: Any]]) ?? [] }!
                .flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/reports/compliance": { api, t, _ in
            try await api.call(.get, "/reports/compliance?maxShared=0", token: t).object["accounts"].map { ($0 as? [[String: Any]]) ?? [] }!
                .flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/reports/expiry": { api, t, _ in
            try await api.call(.get, "/reports/expiry?within=3650", token: t).object["accounts"].map { ($0 as? [[String: Any]]) ?? [] }!
                .flatMap { [$0["resourceId"], $0["accountId"]].compactMap { $0 as? String } }
        },
        "/rotation-runs": { api, t, _ in
            try await api.call(.get, "/rotation-runs", token: t).array.flatMap { [$0["id"], $0["groupId"]].compactMap { $0 as? String } }
        },
        "/notifications": { api, t, _ in
            try await api.call(.get, "/notifications?limit=1000", token: t).array.flatMap { ($0["accountIds"] as? [String]) ?? [] }
        },
        "/tokens": { api, t, _ in try await api.call(.get, "/tokens", token: t).array.compactMap { $0["name"] as? String } },
        "/user-groups": { api, t, _ in try await api.call(.get, "/user-groups", token: t).array.compactMap { $0["id"] as? String } },
    ]

    @Test func everyListShowsALimitedCallerOnlyWhatIsSharedWithIt() async throws {
        let h = try await Harness.make(configure: { $0.resetRetrySeconds = 0 })
        let (_, table) = CustodyApp.router(h.custody)
        for e in table.entries where e.authenticated && e.method == .get {
            let path = String(e.path.dropFirst("/api/v1".count))
            #expect(Self.lists[path] != nil || Self.notLists.contains(path), "GET \(path) is neither checked as a list nor named as not one")
        }
        try await h.run { api in
            let root = try await api.admin()
            let limited = try await api.user("vis-pa", role: "passwordAdministrator", adminToken: root)
            let overseers = [("super-administrator", root),
                ("administrator", try await api.user("vis-admin", role: "administrator", adminToken: root)),
                ("auditor", try await api.user("vis-auditor", role: "passwordAuditor", adminToken: root))]
            let w = try await world(api, root: root, limited: limited)
            for (path, list) in Self.lists.sorted(by: { $0.key < $1.key }) {
                let mine = Set(try await list(api, limited, w))
                let leaked = mine.intersection(w.hidden)
                #expect(leaked.isEmpty, "GET \(path) shows a password administrator \(leaked.count) object(s) not shared with it")
                #expect(!mine.intersection(w.seen).isEmpty, "GET \(path) shows a password administrator nothing it may see")
                // Overseers read every record and report; resources, groups and tokens stay per person.
                guard !["/resources", "/groups", "/tokens", "/user-groups", "/resources/:rid/accounts", "/rotation-runs/:id",
                    "/rotation-runs"].contains(path)
                else {
                    let all = Set(try await list(api, root, w))
                    #expect(!all.intersection(w.hidden).isEmpty, "GET \(path): the super-administrator sees no hidden object, so the row proves nothing")
                    continue
                }
                for (who, token) in overseers {
                    let all = Set(try await list(api, token, w))
                    #expect(!all.intersection(w.hidden).isEmpty, "GET \(path): the \(who) sees no hidden object, so the row proves nothing")
                }
            }
            // The integrity runs' counts: the limited caller's three accounts, the overseers' six.
            func total(_ token: String) async throws -> Int? {
                try await api.call(.get, "/integrity-runs", token: token).array.first { $0["id"] as? String == w.integrityRun }
                    .flatMap { ($0["summary"] as? [String: Any])?["total"] as? Int }
            }
            #expect(try await total(limited) == 3)
            for (who, token) in overseers { #expect(try await total(token) == 6, "\(who)") }
        }
    }

    /// Three resources: one shared with `vis-pa`, one not, one whose single account is shared;
    /// a password changed, a verify, a rotation and an integrity check on each, all by root.
    func world(_ api: API, root: String, limited: String) async throws -> World {
        try await api.call(.post, "/tokens", token: root, json: ["name": "vis-root-token"])
        try await api.call(.post, "/tokens", token: limited, json: ["name": "vis-pa-token"])
        let mates = try #require(try await api.call(.post, "/user-groups", token: root, json: ["name": "vis-mates"]).object["id"] as? String)
        let others = try #require(try await api.call(.post, "/user-groups", token: root, json: ["name": "vis-others"]).object["id"] as? String)
        try await api.call(.put, "/user-groups/\(mates)/members", token: root, json: ["members": ["vis-pa"]])
        try await api.call(.put, "/settings/notifications", token: root,
            json: ["syslog": ["host": "127.0.0.1", "port": 9, "transport": "udp", "format": "rfc5424"]])
        var seen: [String] = [], hidden: [String] = []
        var accounts: [(String, String)] = []
        var partial = ""
        for name in ["shared", "hidden", "partial"] {
            let rid = try await api.resource("vis-\(name)-\(UUID().uuidString.prefix(6))", token: root)
            try await api.call(.put, "/resources/\(rid)/reset-config", token: root, json: ["mode": "agentless", "protocol": "ssh", "port": 1])
            let a = try await api.account(rid, "svc", password: "Svc-Pass-123", token: root)
            let b = try await api.account(rid, "other", password: "Other-Pass-123", token: root)
            accounts += [(rid, a), (rid, b)]
            switch name {
            case "shared":
                seen += [rid, a, b]
                try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["users": [["username": "vis-pa", "permission": "modify"]]])
            case "hidden": hidden += [rid, a, b]
            default:
                partial = rid
                seen += [a]
                hidden += [b]
                try await api.call(.put, "/resources/\(rid)/accounts/\(a)/shares", token: root, json: ["users": [["username": "vis-pa", "permission": "view"]]])
            }
        }
        for (rid, aid) in accounts {
            let r = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: root,
                json: ["newPassword": "Changed-\(UUID().uuidString)", "resetType": "local"])
            #expect(r.status.code < 300, "local change: \(r.text)")
            let v = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: root)
            _ = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String), token: root)
        }
        var groups: [String] = [], runs: [String] = []
        for (name, rid) in [("shared", seen[0]), ("hidden", hidden[0])] {
            let g = try await api.call(.post, "/groups", token: root, json: ["name": "vis-g-\(name)-\(UUID().uuidString.prefix(6))", "resourceIds": [rid]])
            let gid = try #require(g.object["id"] as? String)
            if name == "shared" {
                try await api.call(.put, "/groups/\(gid)/shares", token: root, json: ["users": [["username": "vis-pa", "permission": "view"]]])
            }
            let run = try #require(try await api.call(.post, "/groups/\(gid)/rotation/run", token: root).object["runId"] as? String)
            _ = try await api.finishedRun("/rotation-runs/\(run)", token: root)
            groups.append(gid)
            runs.append(run)
        }
        let check = try #require(try await api.call(.post, "/integrity/run", token: root).object["runId"] as? String)
        _ = try await api.finishedRun("/integrity-runs/\(check)", token: root)
        return World(seen: seen + [groups[0], runs[0], "vis-pa-token", mates], hidden: hidden + [groups[1], runs[1], "vis-root-token", others],
            partial: partial, sharedRun: runs[0], hiddenRun: runs[1], integrityRun: check)
    }
}
