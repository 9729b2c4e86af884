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
        if let problem = policy.problems().first { throw APIError.badRequest("invalid_policy", problem) }
    }
}

struct ResourceTypeBody: APIBody {
    static let fields = ["name", "plugin"]
    static let required = fields
    var name, plugin: String
    func validate() throws {
        try Validate.name(name, field: "name", max: 100)
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

extension Routes {
    func admin(_ t: RouteTable) {
        t.add(.get, "/policies", "List password policies") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .readPolicies)
            let out = try await custody.store.read { db in
                try String.fetchAll(db, sql: "SELECT json FROM policies ORDER BY builtIn DESC, name").compactMap {
                    try? JSONDecoder.api.decode(PasswordPolicy.self, from: Data($0.utf8))
                }
            }
            return try Reply.json(out)
        }
        t.add(.post, "/policies", "Create or replace a custom password policy (administrators)", body: PolicyBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .managePolicies)
            let b = try await req.decodeStrict(PolicyBody.self, limit: custody.config.maxBodyBytes)
            let json = String(decoding: try JSONEncoder.api.encode(b.policy), as: UTF8.self)
            try await custody.store.write { db in
                if try Bool.fetchOne(db, sql: "SELECT builtIn FROM policies WHERE name = ?", arguments: [b.name]) == true {
                    throw APIError.conflict("built-in policy \(b.name) cannot be changed")
                }
                try db.execute(sql: "INSERT INTO policies(name, builtIn, json) VALUES (?, 0, ?) ON CONFLICT(name) DO UPDATE SET json = excluded.json",
                    arguments: [b.name, json])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "save_policy", message: "policy \(b.name)"), in: db)
            }
            return try Reply.json(b.policy, status: .created)
        }
        t.add(.get, "/resource-types", "List resource types and their reset plugins") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .readResourceTypes)
            struct T: Codable { let name, plugin: String; let builtIn: Bool }
            let out = try await custody.store.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM resourceTypes ORDER BY builtIn DESC, name").map {
                    T(name: $0["name"], plugin: $0["plugin"], builtIn: $0["builtIn"])
                }
            }
            return try Reply.json(out)
        }
        t.add(.post, "/resource-types", "Add a custom resource type naming its reset plugin (administrators)", body: ResourceTypeBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageResourceTypes)
            let b = try await req.decodeStrict(ResourceTypeBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                if try String.fetchOne(db, sql: "SELECT name FROM resourceTypes WHERE name = ?", arguments: [b.name]) != nil {
                    throw APIError.conflict("resource type \(b.name) exists")
                }
                if b.plugin.hasPrefix("external:"),
                    try ListenerRecord.filter(Column("name") == String(b.plugin.dropFirst(9)) && Column("kind") == "custom").fetchCount(db) == 0
                {
                    throw APIError.badRequest("invalid_field", "no custom listener named '\(b.plugin.dropFirst(9))' (POST /listeners with kind custom)")
                }
                if b.plugin.hasPrefix("dialect:"), custody.plugins.dialects.dialect(id: String(b.plugin.dropFirst(8))) == nil {
                    throw APIError.badRequest("invalid_field", "no device dialect '\(b.plugin.dropFirst(8))'; known: "
                        + custody.plugins.dialects.dialects.keys.sorted().joined(separator: ", "))
                }
                try db.execute(sql: "INSERT INTO resourceTypes(name, plugin, builtIn) VALUES (?, ?, 0)", arguments: [b.name, b.plugin])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "create_resource_type",
                    message: "\(b.name) -> \(b.plugin)"), in: db)
            }
            return try Reply.json(["name": b.name, "plugin": b.plugin], status: .created)
        }
        t.add(.get, "/dialects", "List the device dialects this server loaded (built-in and dialectsDir)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .readResourceTypes)
            struct D: Codable {
                let id, name: String
                let resourceTypes: [String]
                let modes: [String]
                let changes: [String]
                let saves: Bool
                let constraints: Dialect.Constraints
                let builtIn: Bool
            }
            let lib = custody.plugins.dialects
            let builtIn = DialectLibrary.builtInDirectory()
            return try Reply.json(lib.dialects.values.sorted { $0.id < $1.id }.map { d in
                D(id: d.id, name: d.name, resourceTypes: d.resourceTypes, modes: d.modes.map(\.name), changes: d.change.keys.sorted(),
                    saves: d.save != nil, constraints: d.constraints, builtIn: builtIn.map { lib.sources[d.id]?.hasPrefix($0) == true } ?? false)
            })
        }
        t.add(.get, "/settings/passwords", "Password settings") { _, ctx in
            _ = try ctx.caller()
            let out = try await custody.store.read { db in
                ["requireReason": try Settings.get(Settings.requireReason, db) ?? "false",
                 "defaultPolicy": try Settings.get(Settings.defaultPolicy, db) ?? PasswordPolicy.strong.name]
            }
            return try Reply.json(out)
        }
        t.add(.put, "/settings/passwords", "Change password settings (administrators)", body: PasswordSettingsBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageSettings)
            let b = try await req.decodeStrict(PasswordSettingsBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                if let r = b.requireReason { try Settings.set(Settings.requireReason, r ? "true" : "false", db) }
                if let name = b.defaultPolicy { _ = try Catalog.policy(named: name, db); try Settings.set(Settings.defaultPolicy, name, db) }
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "update_settings",
                    message: "requireReason=\(b.requireReason.map(String.init) ?? "-") defaultPolicy=\(b.defaultPolicy ?? "-")"), in: db)
            }
            return Reply.noContent()
        }
        t.add(.get, "/audit", "Audit records, newest first (?resourceId=&accountId=&user=&operation=&since=&limit=)") { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .readAudit)
            var q = AuditLog.Query()
            let params = req.uri.queryParameters
            q.resourceId = params.get("resourceId")
            q.accountId = params.get("accountId")
            q.user = params.get("user")
            q.operation = params.get("operation")
            if let s = params.get("since") {
                guard let d = ISO8601DateFormatter().date(from: s) else {
                    throw APIError.badRequest("invalid_parameter", "since must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z")
                }
                q.since = d
            }
            if let l = params.get("limit") {
                guard let n = Int(l), (1...10000).contains(n) else { throw APIError.badRequest("invalid_parameter", "limit must be 1...10000") }
                q.limit = n
            }
            let rows = try await custody.store.read { [q] db in
                var q = q
                q.scope = try ListScope.of(p, db)
                return try AuditLog.fetch(q, in: db)
            }
            struct Out: Encodable {
                let id: Int64; let at: Date; let user, ip, operation: String; let resource, account, reason, ticketId: String?
                let outcome: String; let message, resourceId, accountId: String?
                enum K: String, CodingKey { case id, at, user, ip, operation, resource, account, reason, ticketId, outcome, message, resourceId, accountId }
                /// Every key is present; absent values are null.
                func encode(to encoder: any Encoder) throws {
                    var c = encoder.container(keyedBy: K.self)
                    try c.encode(id, forKey: .id); try c.encode(at, forKey: .at); try c.encode(user, forKey: .user)
                    try c.encode(ip, forKey: .ip); try c.encode(operation, forKey: .operation); try c.encode(resource, forKey: .resource)
                    try c.encode(account, forKey: .account); try c.encode(reason, forKey: .reason); try c.encode(ticketId, forKey: .ticketId)
                    try c.encode(outcome, forKey: .outcome); try c.encode(message, forKey: .message)
                    try c.encode(resourceId, forKey: .resourceId); try c.encode(accountId, forKey: .accountId)
                }
            }
            return try Reply.json(rows.map {
                Out(id: $0.id, at: Date(timeIntervalSince1970: $0.at), user: $0.user, ip: $0.ip, operation: $0.operation,
                    resource: $0.resource, account: $0.account, reason: $0.reason, ticketId: $0.ticketId, outcome: $0.outcome,
                    message: $0.message, resourceId: $0.resourceId, accountId: $0.accountId)
            })
        }
    }
}
