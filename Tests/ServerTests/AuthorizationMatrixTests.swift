import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// Role × operation: every authenticated route, called by each role on objects shared with it at the
/// highest level the object allows, so the role ceiling (and ownership rules) alone decide.
@Suite struct AuthorizationMatrixTests {
    enum R: String, CaseIterable { case superAdmin, administrator, passwordAdministrator, passwordUser, passwordAuditor }

    struct Fixture: Sendable {
        let rid, aid, gid, ugid, victim, task, listener, disabledListener, rotationRun, integrityRun, agent, unresolved: String
        /// Accounts under access control with the super-administrator's requests: pending, and approved.
        var gated = "", gated2 = "", pendingRequest = "", approvedRequest = ""
        /// A user with an email address, to receive a scheduled report.
        var reader = ""
    }

    struct Case {
        let allowed: Set<R>
        let build: @Sendable (Fixture, String, String) -> (path: String, body: Any?)
    }

    static let all = Set(R.allCases)
    static let admins: Set<R> = [.superAdmin, .administrator]
    static let creators: Set<R> = [.superAdmin, .administrator, .passwordAdministrator]
    static let managers: Set<R> = [.superAdmin, .administrator, .passwordAdministrator, .passwordUser]
    static let auditors: Set<R> = [.superAdmin, .administrator, .passwordAdministrator, .passwordAuditor]

    /// An archive file every fixture's server holds (its content is not read by the route).
    static let archiveName = "custody-audit-1-1-1.jsonl"

    static func unique(_ p: String) -> String { "\(p)-\(UUID().uuidString.prefix(8))" }

    static let matrix: [String: Case] = [
        "POST /api/v1/auth/logout": Case(allowed: all) { _, _, _ in ("/auth/logout", nil) },
        "POST /api/v1/auth/password": Case(allowed: all) { _, _, current in
            ("/auth/password", ["currentPassword": current, "newPassword": current + "-tmp"])
        },
        "GET /api/v1/auth/me": Case(allowed: all) { _, _, _ in ("/auth/me", nil) },
        "POST /api/v1/auth/totp": Case(allowed: all) { _, _, _ in ("/auth/totp", [String: String]()) },
        "POST /api/v1/auth/totp/disable": Case(allowed: all) { _, _, current in ("/auth/totp/disable", ["password": current]) },
        "DELETE /api/v1/users/:uid/totp": Case(allowed: admins) { f, _, _ in ("/users/\(f.victim)/totp", nil) },
        "POST /api/v1/tokens": Case(allowed: all) { _, _, _ in ("/tokens", ["name": "t"]) },
        "GET /api/v1/tokens": Case(allowed: all) { _, _, _ in ("/tokens", nil) },
        "DELETE /api/v1/tokens/:tid": Case(allowed: all) { _, tid, _ in ("/tokens/\(tid)", nil) },
        "POST /api/v1/users": Case(allowed: admins) { _, _, _ in
            ("/users", ["username": unique("u"), "password": "Long-Enough-Pass1", "role": "passwordUser"])
        },
        "GET /api/v1/users": Case(allowed: admins) { _, _, _ in ("/users", nil) },
        "GET /api/v1/users/:uid": Case(allowed: admins) { f, _, _ in ("/users/\(f.victim)", nil) },
        "PATCH /api/v1/users/:uid": Case(allowed: admins) { f, _, _ in ("/users/\(f.victim)", ["email": "x@example.test"]) },
        "DELETE /api/v1/users/:uid": Case(allowed: admins) { f, _, _ in ("/users/\(f.victim)", nil) },
        "POST /api/v1/user-groups": Case(allowed: admins) { _, _, _ in ("/user-groups", ["name": unique("g")]) },
        "GET /api/v1/user-groups": Case(allowed: all) { _, _, _ in ("/user-groups", nil) },
        "PUT /api/v1/user-groups/:gid/members": Case(allowed: admins) { f, _, _ in ("/user-groups/\(f.ugid)/members", ["members": []]) },
        "DELETE /api/v1/user-groups/:gid": Case(allowed: admins) { f, _, _ in ("/user-groups/\(f.ugid)", nil) },
        "POST /api/v1/resources": Case(allowed: creators) { _, _, _ in ("/resources", ["name": unique("r"), "dnsName": "h", "type": "Linux"]) },
        "GET /api/v1/resources": Case(allowed: all) { _, _, _ in ("/resources", nil) },
        "GET /api/v1/resources/:rid": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)", nil) },
        "PATCH /api/v1/resources/:rid": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)", ["location": "DC2"]) },
        "DELETE /api/v1/resources/:rid": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)", nil) },
        "POST /api/v1/resources/:rid/owner": Case(allowed: [.superAdmin]) { f, _, _ in ("/resources/\(f.rid)/owner", ["username": "admin"]) },
        "POST /api/v1/resources/:rid/accounts": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts", ["loginName": unique("a"), "password": "Pw-12345678"])
        },
        "GET /api/v1/resources/:rid/accounts": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)/accounts", nil) },
        "GET /api/v1/resources/:rid/accounts/:aid": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)/accounts/\(f.aid)", nil) },
        "PATCH /api/v1/resources/:rid/accounts/:aid": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)/accounts/\(f.aid)", ["notes": "n"]) },
        "DELETE /api/v1/resources/:rid/accounts/:aid": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)/accounts/\(f.aid)", nil) },
        "GET /api/v1/resources/:rid/accounts/:aid/history": Case(allowed: all) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/history", nil)
        },
        "GET /api/v1/resources/:rid/accounts/:aid/password": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/password", nil)
        },
        "PUT /api/v1/resources/:rid/accounts/:aid/password": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/password", ["resetType": "local"])
        },
        "PUT /api/v1/resources/:rid/shares": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)/shares", ["users": []]) },
        "GET /api/v1/resources/:rid/shares": Case(allowed: managers) { f, _, _ in ("/resources/\(f.rid)/shares", nil) },
        "PUT /api/v1/groups/:gid/shares": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/shares", ["users": []]) },
        "GET /api/v1/groups/:gid/shares": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/shares", nil) },
        "PUT /api/v1/resources/:rid/accounts/:aid/shares": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/shares", ["users": []])
        },
        "GET /api/v1/resources/:rid/accounts/:aid/shares": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/shares", nil)
        },
        "POST /api/v1/groups": Case(allowed: creators) { _, _, _ in ("/groups", ["name": unique("grp")]) },
        "GET /api/v1/groups": Case(allowed: all) { _, _, _ in ("/groups", nil) },
        "GET /api/v1/groups/:gid": Case(allowed: all) { f, _, _ in ("/groups/\(f.gid)", nil) },
        "PUT /api/v1/groups/:gid/resources": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/resources", ["resourceIds": [f.rid]]) },
        "DELETE /api/v1/groups/:gid": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)", nil) },
        "POST /api/v1/groups/:gid/owner": Case(allowed: [.superAdmin]) { f, _, _ in ("/groups/\(f.gid)/owner", ["username": "admin"]) },
        "GET /api/v1/policies": Case(allowed: all) { _, _, _ in ("/policies", nil) },
        "POST /api/v1/policies": Case(allowed: admins) { _, _, _ in ("/policies", ["name": unique("p"), "minLength": 8, "maxLength": 20]) },
        "GET /api/v1/resource-types": Case(allowed: all) { _, _, _ in ("/resource-types", nil) },
        "POST /api/v1/resource-types": Case(allowed: admins) { _, _, _ in ("/resource-types", ["name": unique("T"), "plugin": "unix"]) },
        "GET /api/v1/dialects": Case(allowed: all) { _, _, _ in ("/dialects", nil) },
        "GET /api/v1/settings/passwords": Case(allowed: all) { _, _, _ in ("/settings/passwords", nil) },
        "PUT /api/v1/settings/passwords": Case(allowed: admins) { _, _, _ in ("/settings/passwords", ["requireReason": false]) },
        "GET /api/v1/audit": Case(allowed: auditors) { _, _, _ in ("/audit", nil) },
        "PUT /api/v1/resources/:rid/reset-config": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/reset-config", ["mode": "agentless", "protocol": "ssh", "port": 1])
        },
        "GET /api/v1/resources/:rid/reset-config": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)/reset-config", nil) },
        "POST /api/v1/resources/:rid/accounts/:aid/verify": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)/accounts/\(f.aid)/verify", nil) },
        "GET /api/v1/tasks/:tid": Case(allowed: all) { f, _, _ in ("/tasks/\(f.task)", nil) },
        "POST /api/v1/tasks/:tid/abandon": Case(allowed: admins) { f, _, _ in ("/tasks/\(f.unresolved)/abandon", ["reason": "decommissioned"]) },
        "GET /api/v1/tasks": Case(allowed: all) { _, _, _ in ("/tasks?mine=true", nil) },
        "POST /api/v1/import/resources": Case(allowed: creators) { _, _, _ in
            ("/import/resources", "resourceName,accountName,password\n\(unique("imp")),root,Pw-1234567890\n")
        },
        "POST /api/v1/listeners": Case(allowed: admins) { _, _, _ in ("/listeners", listenerBody(unique("l"))) },
        "GET /api/v1/listeners": Case(allowed: admins) { _, _, _ in ("/listeners", nil) },
        "GET /api/v1/listeners/:lid": Case(allowed: admins) { f, _, _ in ("/listeners/\(f.listener)", nil) },
        "PUT /api/v1/listeners/:lid": Case(allowed: admins) { f, _, _ in ("/listeners/\(f.listener)", listenerBody(unique("l"))) },
        // The super-administrator wrote the fixture's listener: dual control forbids them to approve it.
        "POST /api/v1/listeners/:lid/approve": Case(allowed: [.administrator]) { f, _, _ in ("/listeners/\(f.listener)/approve", nil) },
        "POST /api/v1/listeners/:lid/reject": Case(allowed: [.administrator]) { f, _, _ in ("/listeners/\(f.listener)/reject", nil) },
        "POST /api/v1/listeners/:lid/disable": Case(allowed: admins) { f, _, _ in ("/listeners/\(f.listener)/disable", nil) },
        "POST /api/v1/listeners/:lid/enable": Case(allowed: admins) { f, _, _ in ("/listeners/\(f.disabledListener)/enable", nil) },
        "DELETE /api/v1/listeners/:lid": Case(allowed: admins) { f, _, _ in ("/listeners/\(f.listener)", nil) },
        "PUT /api/v1/groups/:gid/rotation": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/rotation", rotationBody) },
        "GET /api/v1/groups/:gid/rotation": Case(allowed: all) { f, _, _ in ("/groups/\(f.gid)/rotation", nil) },
        "DELETE /api/v1/groups/:gid/rotation": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/rotation", nil) },
        "POST /api/v1/groups/:gid/rotation/run": Case(allowed: managers) { f, _, _ in ("/groups/\(f.gid)/rotation/run", nil) },
        "GET /api/v1/rotation-runs": Case(allowed: all) { f, _, _ in ("/rotation-runs?groupId=\(f.gid)", nil) },
        "GET /api/v1/integrity-runs": Case(allowed: auditors) { _, _, _ in ("/integrity-runs", nil) },
        "GET /api/v1/rotation-runs/:id": Case(allowed: all) { f, _, _ in ("/rotation-runs/\(f.rotationRun)", nil) },
        "GET /api/v1/settings/integrity": Case(allowed: all) { _, _, _ in ("/settings/integrity", nil) },
        "GET /api/v1/settings/audit-alerts": Case(allowed: auditors) { _, _, _ in ("/settings/audit-alerts", nil) },
        "PUT /api/v1/settings/audit-alerts": Case(allowed: [.superAdmin]) { _, _, _ in ("/settings/audit-alerts", ["operations": ["create_user"]]) },
        "PUT /api/v1/settings/integrity": Case(allowed: admins) { _, _, _ in ("/settings/integrity", ["dailyAt": "01:00"]) },
        "POST /api/v1/integrity/run": Case(allowed: admins) { _, _, _ in ("/integrity/run", nil) },
        "GET /api/v1/integrity-runs/:id": Case(allowed: auditors) { f, _, _ in ("/integrity-runs/\(f.integrityRun)", nil) },
        "GET /api/v1/reports/expiry": Case(allowed: all) { _, _, _ in ("/reports/expiry", nil) },
        "GET /api/v1/reports/inventory": Case(allowed: all) { _, _, _ in ("/reports/inventory", nil) },
        "GET /api/v1/reports/compliance": Case(allowed: all) { _, _, _ in ("/reports/compliance", nil) },
        "GET /api/v1/reports/activity": Case(allowed: auditors) { _, _, _ in ("/reports/activity", nil) },
        "GET /api/v1/settings/report-schedule": Case(allowed: admins) { _, _, _ in ("/settings/report-schedule", nil) },
        "PUT /api/v1/settings/report-schedule": Case(allowed: admins) { f, _, _ in
            ("/settings/report-schedule", ["schedule": ["kind": "days", "everyDays": 1, "at": "07:00"], "reports": ["expiry"], "recipients": [f.reader]])
        },
        "DELETE /api/v1/settings/report-schedule": Case(allowed: admins) { _, _, _ in ("/settings/report-schedule", nil) },
        "GET /api/v1/reports/integrity": Case(allowed: auditors) { _, _, _ in ("/reports/integrity", nil) },
        "GET /api/v1/settings/notifications": Case(allowed: admins) { _, _, _ in ("/settings/notifications", nil) },
        "PUT /api/v1/settings/notifications": Case(allowed: admins) { _, _, _ in ("/settings/notifications", ["accessURL": "https://vault.example.test"]) },
        "POST /api/v1/notifications/test": Case(allowed: admins) { _, _, _ in ("/notifications/test", ["syslog": true]) },
        "GET /api/v1/settings/directory": Case(allowed: admins) { _, _, _ in ("/settings/directory", nil) },
        "PUT /api/v1/settings/directory": Case(allowed: [.superAdmin]) { _, _, _ in
            ("/settings/directory", ["url": "ldaps://127.0.0.1:1", "bindDN": "cn=svc,dc=example,dc=test", "bindPassword": "Svc-Pass-1!",
                "baseDN": "dc=example,dc=test", "roleMappings": [["group": "cn=staff,dc=example,dc=test", "role": "passwordUser"]]])
        },
        "DELETE /api/v1/settings/directory": Case(allowed: [.superAdmin]) { _, _, _ in ("/settings/directory", nil) },
        "POST /api/v1/settings/directory/test": Case(allowed: admins) { _, _, _ in ("/settings/directory/test", nil) },
        "POST /api/v1/directory/import/resources": Case(allowed: creators) { _, _, _ in
            ("/directory/import/resources", ["base": "ou=servers,dc=example,dc=test"])
        },
        "POST /api/v1/directory/sync": Case(allowed: [.superAdmin]) { _, _, _ in ("/directory/sync", nil) },
        "POST /api/v1/directory/import/users": Case(allowed: [.superAdmin]) { _, _, _ in
            ("/directory/import/users", ["groups": ["cn=staff,dc=example,dc=test"]])
        },
        "GET /api/v1/notifications/events": Case(allowed: admins) { _, _, _ in ("/notifications/events", nil) },
        "PUT /api/v1/notifications/events/:event": Case(allowed: admins) { _, _, _ in ("/notifications/events/password_changed", ["email": true]) },
        "GET /api/v1/notifications/templates/:event": Case(allowed: admins) { _, _, _ in ("/notifications/templates/reset_failed", nil) },
        "PUT /api/v1/notifications/templates/:event": Case(allowed: admins) { _, _, _ in
            ("/notifications/templates/reset_failed", ["subject": "Failed: {{resource}}", "body": "{{message}}"])
        },
        "DELETE /api/v1/notifications/templates/:event": Case(allowed: admins) { _, _, _ in ("/notifications/templates/reset_failed", nil) },
        "GET /api/v1/notifications": Case(allowed: auditors) { _, _, _ in ("/notifications", nil) },
        "POST /api/v1/agent-packages": Case(allowed: admins) { f, _, _ in ("/agent-packages", ["os": "linux", "resourceId": f.rid]) },
        "GET /api/v1/agents": Case(allowed: admins) { _, _, _ in ("/agents", nil) },
        "GET /api/v1/cluster": Case(allowed: admins) { _, _, _ in ("/cluster", nil) },
        "POST /api/v1/backups": Case(allowed: [.superAdmin]) { _, _, _ in ("/backups", nil) },
        "GET /api/v1/backups": Case(allowed: [.superAdmin]) { _, _, _ in ("/backups", nil) },
        "POST /api/v1/audit/purge": Case(allowed: [.superAdmin]) { _, _, _ in ("/audit/purge", ["before": "2020-01-01"]) },
        "GET /api/v1/audit/archives": Case(allowed: [.superAdmin]) { _, _, _ in ("/audit/archives", nil) },
        "GET /api/v1/audit/archives/:name": Case(allowed: [.superAdmin]) { _, _, _ in ("/audit/archives/\(archiveName)", nil) },
        "GET /api/v1/audit/export": Case(allowed: auditors) { _, _, _ in ("/audit/export?to=2020-01-01T00:00:00Z", nil) },
        "POST /api/v1/agents/:id/bindings": Case(allowed: admins) { f, _, _ in ("/agents/\(f.agent)/bindings", ["resourceId": f.rid]) },
        "DELETE /api/v1/agents/:id/bindings/:rid": Case(allowed: admins) { f, _, _ in ("/agents/\(f.agent)/bindings/\(f.rid)", nil) },
        "DELETE /api/v1/agents/:id": Case(allowed: admins) { f, _, _ in ("/agents/\(f.agent)", nil) },
        "GET /api/v1/resources/:rid/accounts/:aid/access-control": Case(allowed: all) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/access-control", nil)
        },
        "PUT /api/v1/resources/:rid/accounts/:aid/access-control": Case(allowed: creators) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.aid)/access-control", accessRules)
        },
        "DELETE /api/v1/resources/:rid/accounts/:aid/access-control": Case(allowed: creators) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.gated)/access-control", nil)
        },
        "GET /api/v1/resources/:rid/access-control": Case(allowed: all) { f, _, _ in ("/resources/\(f.rid)/access-control", nil) },
        "PUT /api/v1/resources/:rid/access-control": Case(allowed: creators) { f, _, _ in ("/resources/\(f.rid)/access-control", accessRules) },
        "DELETE /api/v1/resources/:rid/access-control": Case(allowed: creators) { f, _, _ in ("/resources/\(f.rid)/access-control", nil) },
        "GET /api/v1/groups/:gid/access-control": Case(allowed: all) { f, _, _ in ("/groups/\(f.gid)/access-control", nil) },
        "PUT /api/v1/groups/:gid/access-control": Case(allowed: creators) { f, _, _ in ("/groups/\(f.gid)/access-control", accessRules) },
        "DELETE /api/v1/groups/:gid/access-control": Case(allowed: creators) { f, _, _ in ("/groups/\(f.gid)/access-control", nil) },
        "POST /api/v1/resources/:rid/accounts/:aid/access-requests": Case(allowed: managers) { f, _, _ in
            ("/resources/\(f.rid)/accounts/\(f.gated2)/access-requests", ["reason": "matrix"])
        },
        "GET /api/v1/access-requests": Case(allowed: all) { _, _, _ in ("/access-requests", nil) },
        "GET /api/v1/access-requests/:qid": Case(allowed: all) { f, _, _ in ("/access-requests/\(f.pendingRequest)", nil) },
        // The super-administrator made the requests; m-passwordAdministrator, made by it, is no second person.
        "POST /api/v1/access-requests/:qid/approve": Case(allowed: [.administrator]) { f, _, _ in ("/access-requests/\(f.pendingRequest)/approve", nil) },
        "POST /api/v1/access-requests/:qid/reject": Case(allowed: [.administrator]) { f, _, _ in ("/access-requests/\(f.pendingRequest)/reject", nil) },
        "POST /api/v1/access-requests/:qid/checkout": Case(allowed: [.superAdmin]) { f, _, _ in ("/access-requests/\(f.approvedRequest)/checkout", nil) },
        "POST /api/v1/access-requests/:qid/checkin": Case(allowed: creators) { f, _, _ in
            ("/access-requests/\(f.approvedRequest)/checkin", ["reason": "matrix"])
        },
    ]

    static var accessRules: [String: Any] { ["approvers": ["users": ["m-approver", "m-administrator", "m-passwordAdministrator"]], "exclusive": false] }

    static var rotationBody: [String: Any] { ["schedule": ["kind": "never", "at": "01:00"], "passwordChoice": "unique"] }

    static func listenerBody(_ name: String) -> [String: Any] {
        ["name": name, "kind": "script", "resourceTypes": ["Linux"], "script": "#!/bin/sh\n", "approver": "m-approver"]
    }

    @Test func everyAuthenticatedRouteHasARowAndEveryRoleGetsWhatTheRowSays() async throws {
        let h = try await Harness.make(configure: { $0.resetRetrySeconds = 0 })
        let (_, table) = CustodyApp.router(h.custody)
        let routes = table.entries.filter(\.authenticated)
        for e in routes {
            #expect(Self.matrix["\(e.method.rawValue) \(e.path)"] != nil, "no matrix row for \(e.method.rawValue) \(e.path)")
        }
        try await h.run { api in
            let session = try await api.admin()
            // An API token survives the session revocations that password changes cause.
            let root = try #require(try await api.call(.post, "/tokens", token: session, json: ["name": "matrix"]).object["token"] as? String)
            var names: [R: String] = [.superAdmin: "admin"]
            for role in R.allCases where role != .superAdmin {
                names[role] = "m-\(role.rawValue)"
                _ = try await api.user("m-\(role.rawValue)", role: role.rawValue, adminToken: root)
            }
            _ = try await api.user("m-approver", role: "administrator", adminToken: root)
            // One integrity run for all rows: a run per fixture would verify every account made so far.
            let check = try await api.call(.post, "/integrity/run", token: root)
            let integrityRun = try #require(check.object["runId"] as? String)
            for e in routes {
                let key = "\(e.method.rawValue) \(e.path)"
                guard let c = Self.matrix[key] else { continue }
                for role in R.allCases {
                    let password = role == .superAdmin ? API.adminPassword : API.userPassword + "x"
                    let login = try await api.call(.post, "/auth/login", json: ["username": names[role]!, "password": password])
                    let token = try #require(login.object["token"] as? String, "\(role) login: \(login.text)")
                    let f = try await fixture(api, root: root, names: names, integrityRun: integrityRun, access: key.contains("access"))
                    let own = try await api.call(.post, "/tokens", token: token, json: ["name": "own"])
                    let (path, body) = c.build(f, own.object["id"] as? String ?? "", password)
                    let r: Reply
                    if let csv = body as? String {
                        r = try await api.call(e.method, path, token: token, raw: csv, contentType: "text/csv")
                    } else {
                        r = try await api.call(e.method, path, token: token, json: body)
                    }
                    if key == "POST /api/v1/auth/password" && r.status == .noContent {
                        try await api.call(.post, "/auth/password", token: token, json: ["currentPassword": password + "-tmp", "newPassword": password])
                    }
                    let allowed = c.allowed.contains(role)
                    if allowed {
                        #expect((200..<300).contains(r.status.code), "\(key) as \(role): expected success, got \(r.status.code) \(r.text)")
                    } else {
                        #expect(r.status == .forbidden, "\(key) as \(role): expected 403, got \(r.status.code) \(r.text)")
                    }
                }
            }
        }
    }

    /// Fresh objects owned by the super-administrator, shared as widely as each kind allows.
    func fixture(_ api: API, root: String, names: [R: String], integrityRun: String, access: Bool = false) async throws -> Fixture {
        let archives = api.harness.custody.config.resolvedAuditArchiveDir
        try FileManager.default.createDirectory(atPath: archives, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: archives + "/" + Self.archiveName, contents: Data("{}\n".utf8))
        let rid = try await api.resource(Self.unique("res"), token: root)
        let aid = try await api.account(rid, "svc", password: "Svc-Pass-123", token: root)
        let g = try await api.call(.post, "/groups", token: root, json: ["name": Self.unique("grp"), "resourceIds": [rid]])
        let gid = try #require(g.object["id"] as? String)
        let ug = try await api.call(.post, "/user-groups", token: root, json: ["name": Self.unique("ug")])
        let ugid = try #require(ug.object["id"] as? String)
        let victim = try await api.call(.post, "/users", token: root,
            json: ["username": Self.unique("victim"), "password": "Victim-Pass-123", "role": "passwordUser"])
        let reader = Self.unique("reader")
        try await api.call(.post, "/users", token: root,
            json: ["username": reader, "password": "Reader-Pass-123", "role": "passwordUser", "email": "\(reader)@example.test"])
        let others = R.allCases.filter { $0 != .superAdmin }.map { names[$0]! }
        try await api.call(.put, "/resources/\(rid)/shares", token: root, json: ["users": others.map { ["username": $0, "permission": "manage"] }])
        try await api.call(.put, "/groups/\(gid)/shares", token: root, json: ["users": others.map { ["username": $0, "permission": "manage"] }])
        // Reset reaches a closed port: tasks queue and fail fast as unreachable.
        try await api.call(.put, "/resources/\(rid)/reset-config", token: root, json: ["mode": "agentless", "protocol": "ssh", "port": 1])
        let task = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: root)
        let listener = try await api.call(.post, "/listeners", token: root, json: Self.listenerBody(Self.unique("l")))
        let off = try await api.call(.post, "/listeners", token: root, json: Self.listenerBody(Self.unique("l")))
        let offID = try #require(off.object["id"] as? String)
        try await api.call(.post, "/listeners/\(offID)/disable", token: root)
        try await api.call(.put, "/groups/\(gid)/rotation", token: root, json: Self.rotationBody)
        let run = try await api.call(.post, "/groups/\(gid)/rotation/run", token: root)
        // Single flight: the account takes no delete, local change or verify while these are under way.
        _ = try await Fixtures.waitTask(api, try #require(task.object["taskId"] as? String), token: root)
        _ = try await api.finishedRun("/rotation-runs/\(try #require(run.object["runId"] as? String))", token: root)
        let agent = AgentRecord(id: newID(), hostname: "agent.example.test", os: "linux", arch: "x86_64", version: "t",
            signingKey: Data(count: 32), sealingKey: Data(count: 32), resourceId: rid, enrolledAt: 0, lastSeenAt: 0)
        try await api.harness.custody.store.write { db in
            try agent.insert(db)
            try db.execute(sql: "INSERT INTO agentBindings(resourceId, agentId, approvedBy, approvedAt) VALUES (?, ?, 'root', 0)",
                arguments: [rid, agent.id])
        }
        // A reset stuck in reconcile on another resource (so it blocks nothing the other rows do).
        let other = try await api.resource(Self.unique("stuck"), token: root)
        let otherAccount = try await api.account(other, "svc", password: "Svc-Pass-123", token: root)
        let unresolved = try await api.harness.custody.store.write { db -> String in
            let r = try #require(try ResourceRecord.fetchOne(db, key: other))
            let a = try #require(try AccountRecord.fetchOne(db, key: otherAccount))
            var t = try api.harness.custody.newTask(.reset, r, a, by: "root", reason: nil, db)
            (t.state, t.phase, t.notBefore) = (.unknown, .reconcile, Date().timeIntervalSince1970 + 1e9)
            try t.insert(db)
            return t.id
        }
        let tls = api.harness.custody.config.tlsDir
        try FileManager.default.createDirectory(atPath: tls, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: tls + "/server.crt", contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        var f = Fixture(rid: rid, aid: aid, gid: gid, ugid: ugid, victim: try #require(victim.object["id"] as? String),
            task: try #require(task.object["taskId"] as? String), listener: try #require(listener.object["id"] as? String),
            disabledListener: offID, rotationRun: try #require(run.object["runId"] as? String),
            integrityRun: integrityRun, agent: agent.id, unresolved: unresolved)
        f.reader = reader
        guard access else { return f }
        // Three accounts under their own access control: root asks for two, and m-approver approves one.
        var gated: [String] = []
        for name in ["gated1", "gated2", "gated3"] {
            let id = try await api.account(rid, name, password: "Svc-Pass-123", token: root)
            let set = try await api.call(.put, "/resources/\(rid)/accounts/\(id)/access-control", token: root, json: Self.accessRules)
            #expect(set.status == .ok, "\(set.text)")
            gated.append(id)
        }
        (f.gated, f.gated2) = (gated[0], gated[2])
        func ask(_ account: String) async throws -> String {
            let r = try await api.call(.post, "/resources/\(rid)/accounts/\(account)/access-requests", token: root, json: ["reason": "matrix"])
            return try #require(r.object["id"] as? String, "\(r.text)")
        }
        f.pendingRequest = try await ask(gated[0])
        f.approvedRequest = try await ask(gated[1])
        let approver = try await api.call(.post, "/auth/login", json: ["username": "m-approver", "password": API.userPassword + "x"])
        let approved = try await api.call(.post, "/access-requests/\(f.approvedRequest)/approve",
            token: try #require(approver.object["token"] as? String))
        #expect(approved.object["state"] as? String == "approved", "\(approved.text)")
        return f
    }
}
