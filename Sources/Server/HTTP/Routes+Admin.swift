import Foundation
import GRDB
import ResetPlugins
import Hummingbird
import Shared

struct PolicyBody: APIBody {
    static let fields = ["name", "minLength", "maxLength", "requireMixedCase", "requireDigits", "minSpecial",
        "firstCharLetter", "forbidLoginName", "historyDepth", "maxAgeDays"]
    static let required = ["name", "minLength", "maxLength"]
    var name: String
    var minLength, maxLength: Int
    var requireMixedCase, requireDigits, firstCharLetter, forbidLoginName: Bool?
    var minSpecial, historyDepth, maxAgeDays: Int?
    var policy: PasswordPolicy {
        PasswordPolicy(name: name, minLength: minLength, maxLength: maxLength, requireMixedCase: requireMixedCase ?? false,
            requireDigits: requireDigits ?? false, minSpecial: minSpecial ?? 0, firstCharLetter: firstCharLetter ?? false,
            forbidLoginName: forbidLoginName ?? false, historyDepth: historyDepth ?? 0, maxAgeDays: maxAgeDays)
    }
    func validate() throws {
        try Validate.name(name, field: "name", max: 100)
        try Validate.number(minLength, field: "minLength", in: 1...256)
        try Validate.number(maxLength, field: "maxLength", in: 1...256)
        try Validate.number(minSpecial, field: "minSpecial", in: 0...64)
        try Validate.number(historyDepth, field: "historyDepth", in: 0...100)
        try Validate.number(maxAgeDays, field: "maxAgeDays", in: 1...36500)
        if let problem = policy.problems().first { throw APIError.badRequest("invalid_policy", problem) }
    }
}

struct ResourceTypeBody: APIBody {
    static let fields = ["name", "plugin"]
    static let required = fields
    var name, plugin: String
    func validate() throws {
        try Validate.name(name, field: "name", max: 100)
        Validate.recorder?.note("plugin", ["pattern": "^(" + ResourceTypes.plugins.sorted().joined(separator: "|") + ")$|^external:.+$|^dialect:.+$"])
        guard ResourceTypes.plugins.contains(plugin) || (plugin.hasPrefix("external:") && plugin.count > 9)
            || (plugin.hasPrefix("dialect:") && plugin.count > 8)
        else {
            throw APIError.badRequest("invalid_field",
                "field 'plugin' must be one of \(ResourceTypes.plugins.sorted().joined(separator: ", ")), external:<custom listener name> "
                    + "or dialect:<device dialect id>")
        }
    }
}

struct PasswordSettingsBody: APIBody {
    static let fields = ["requireReason", "defaultPolicy"]
    var requireReason: Bool?
    var defaultPolicy: String?
}

/// A device dialect as `GET /dialects` shows it.
struct DialectView: Codable, Sendable {
    let id, name: String
    let resourceTypes: [String]
    /// Its CLI modes, by name.
    let modes: [String]
    /// The kinds of account it changes.
    let changes: [String]
    /// Whether it saves the configuration after a change.
    let saves: Bool
    let constraints: Dialect.Constraints
    let builtIn: Bool
}

extension Routes {
    func admin(_ t: RouteTable) {
        t.add(.get, "/cluster", "The nodes serving this vault: name, version, last heartbeat, running tasks (administrators)", response: .object(ClusterView.self)) { _, ctx in
            try Reply.json(try await custody.cluster.view(by: try ctx.caller()))
        }
        t.add(.get, "/policies", "List password policies", response: .object([PasswordPolicy].self)) { _, ctx in
            try Reply.json(try await custody.policies.policies(by: try ctx.caller()))
        }
        t.add(.post, "/policies", "Create or replace a custom password policy (administrators)", body: PolicyBody.self, response: .object(PasswordPolicy.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .managePolicies)  // before the body is read; the service decides again
            let b = try await req.decodeStrict(PolicyBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(try await custody.policies.savePolicy(b, by: p, ip: ctx.remoteIP), status: .created)
        }
        t.add(.get, "/resource-types", "List resource types and their reset plugins", response: .object([ResourceTypeEntry].self)) { _, ctx in
            try Reply.json(try await custody.policies.resourceTypes(by: try ctx.caller()))
        }
        t.add(.post, "/resource-types", "Add a custom resource type naming its reset plugin (administrators)", body: ResourceTypeBody.self, response: .object([String: String].self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageResourceTypes)
            let b = try await req.decodeStrict(ResourceTypeBody.self, limit: custody.config.maxBodyBytes)
            let added = try await custody.policies.addResourceType(b, by: p, ip: ctx.remoteIP)
            return try Reply.json(["name": added.name, "plugin": added.plugin], status: .created)
        }
        t.add(.get, "/dialects", "List the device dialects this server loaded (built-in and dialectsDir)", response: .list(DialectView.self)) { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .readResourceTypes)
            let lib = custody.plugins.dialects
            let builtIn = DialectLibrary.builtInDirectory()
            return try Reply.json(lib.dialects.values.sorted { $0.id < $1.id }.map { d in
                DialectView(id: d.id, name: d.name, resourceTypes: d.resourceTypes, modes: d.modes.map(\.name), changes: d.change.keys.sorted(),
                    saves: d.save != nil, constraints: d.constraints, builtIn: builtIn.map { lib.sources[d.id]?.hasPrefix($0) == true } ?? false)
            })
        }
        t.add(.get, "/settings/passwords", "Password settings", response: .object([String: String].self)) { _, ctx in
            _ = try ctx.caller()
            let settings = try await custody.policies.passwordSettings()
            return try Reply.json(["requireReason": settings.requireReason ? "true" : "false", "defaultPolicy": settings.defaultPolicy])
        }
        t.add(.put, "/settings/passwords", "Change password settings (administrators)", body: PasswordSettingsBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(PasswordSettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.policies.setPasswordSettings(b, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/audit", "Audit records, newest first (?resourceId=&accountId=&user=&operation=&since=; paged: limit= up to 10000, cursor=)",
            response: .list(AuditView.self),
            query: QueryParam.paging(max: 10000) + [QueryParam("resourceId"), QueryParam("accountId"), QueryParam("user"),
                QueryParam("operation", .string, "e.g. retrieve_password"), QueryParam("since", .dateTime)]) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            var q = AuditLog.Query()
            let params = ListParameters(req)
            q.resourceId = try params.text("resourceId")
            q.accountId = try params.text("accountId")
            q.user = try params.text("user")
            q.operation = try params.text("operation")
            q.since = try params.time("since")
            let page = try params.page(max: 10000)
            q.limit = page.fetchLimit
            if let c = page.after {
                guard let id = Int64(c.id) else { throw APIError.badRequest("invalid_cursor", "cursor is not one of this list's") }
                q.beforeID = id
            }
            let rows = Page(fetched: try await custody.auditTrail.entries(q, by: p), page) { PageCursor(key: "", id: String($0.id)) }
            return Reply.page(rows.map {
                AuditView(id: $0.id, at: Date(timeIntervalSince1970: $0.at), user: $0.user, ip: $0.ip, operation: $0.operation,
                    resource: $0.resource, account: $0.account, reason: $0.reason, ticketId: $0.ticketId, outcome: $0.outcome,
                    message: $0.message, resourceId: $0.resourceId, accountId: $0.accountId)
            }, req)
        }
    }
}

/// An audit record as `GET /audit` shows it: every key present, absent values null.
struct AuditView: Codable {
    let id: Int64
    let at: Date
    let user, ip, operation: String
    let resource, account, reason, ticketId: String?
    let outcome: String
    let message, resourceId, accountId: String?

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(at, forKey: .at); try c.encode(user, forKey: .user)
        try c.encode(ip, forKey: .ip); try c.encode(operation, forKey: .operation); try c.encode(resource, forKey: .resource)
        try c.encode(account, forKey: .account); try c.encode(reason, forKey: .reason); try c.encode(ticketId, forKey: .ticketId)
        try c.encode(outcome, forKey: .outcome); try c.encode(message, forKey: .message)
        try c.encode(resourceId, forKey: .resourceId); try c.encode(accountId, forKey: .accountId)
    }
}
