import Foundation
import GRDB
import Hummingbird
import Shared

struct ResourceBody: APIBody {
    static let fields = ["name", "dnsName", "type", "description", "department", "location", "url", "customFields", "passwordPolicy"]
    static let required = ["name", "dnsName", "type"]
    var name: String
    var dnsName: String
    var type: String
    var description, department, location, url: String?
    var customFields: [String: String]?
    var passwordPolicy: String?
    func validate() throws {
        try Validate.name(name, field: "name")
        try Validate.hostName(dnsName)
        try Validate.name(type, field: "type", max: 100)
        try Validate.text(description, field: "description")
        try Validate.text(department, field: "department", max: 200)
        try Validate.text(location, field: "location", max: 200)
        try Validate.text(url, field: "url", max: 2000)
        try Validate.customFields(customFields)
    }
}

struct ResourcePatchBody: APIBody {
    static let fields = ResourceBody.fields
    var name, dnsName, type, description, department, location, url: String?
    var customFields: [String: String]?
    var passwordPolicy: String?
    func validate() throws {
        if let name { try Validate.name(name, field: "name") }
        if let dnsName { try Validate.hostName(dnsName) }
        if let type { try Validate.name(type, field: "type", max: 100) }
        try Validate.text(description, field: "description")
        try Validate.text(department, field: "department", max: 200)
        try Validate.text(location, field: "location", max: 200)
        try Validate.text(url, field: "url", max: 2000)
        try Validate.customFields(customFields)
    }
}

struct OwnerBody: APIBody {
    static let fields = ["username"]
    static let required = fields
    var username: String
}

extension Validate {
    static func hostName(_ v: String) throws {
        let ok = !v.isEmpty && v.count <= 253 && v.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-._:[]".unicodeScalars.contains($0)
        }
        if !ok { throw APIError.badRequest("invalid_field", "field 'dnsName' must be a host name or IP address") }
    }
}

extension Routes {
    func resources(_ t: RouteTable) {
        t.add(.post, "/resources", "Create a resource", body: ResourceBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createResource)
            let b = try await req.decodeStrict(ResourceBody.self, limit: custody.config.maxBodyBytes)
            let r = try await custody.createResource(b, by: p, ip: ctx.remoteIP)
            return try Reply.json(ResourceView(r, owner: p.username), status: .created)
        }
        t.add(.get, "/resources", "List the resources you own or that are shared with you") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .listResources)
            let views = try await custody.store.read { db in
                try Access.visibleResources(p, db).map { ResourceView($0, owner: try Catalog.username($0.ownerId, db)) }
            }
            return try Reply.json(views)
        }
        t.add(.get, "/resources/:rid", "Show a resource") { _, ctx in
            let p = try ctx.caller()
            let view = try await custody.store.read { db in
                let (r, _) = try Catalog.resource(try ctx.param("rid"), p, .readResource, custody.authorizer, db, visibleViaAccounts: true)
                return ResourceView(r, owner: try Catalog.username(r.ownerId, db))
            }
            return try Reply.json(view)
        }
        t.add(.patch, "/resources/:rid", "Edit a resource (manage)", body: ResourcePatchBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(ResourcePatchBody.self, limit: custody.config.maxBodyBytes)
            let view = try await custody.store.write { db in
                var (r, _) = try Catalog.resource(try ctx.param("rid"), p, .updateResource, custody.authorizer, db)
                if let v = b.name { r.name = v }
                if let v = b.dnsName { r.dnsName = v }
                if let v = b.type { try Catalog.requireType(v, db); r.type = v }
                if let v = b.description { r.description = v }
                if let v = b.department { r.department = v }
                if let v = b.location { r.location = v }
                if let v = b.url { r.url = v }
                if let v = b.customFields { r.customFields = v }
                if let v = b.passwordPolicy { _ = try Catalog.policy(named: v, db); r.passwordPolicy = v }
                r.updatedAt = custody.now()
                try r.update(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "update_resource",
                    resource: r.name, resourceId: r.id), in: db)
                return ResourceView(r, owner: try Catalog.username(r.ownerId, db))
            }
            return try Reply.json(view)
        }
        t.add(.delete, "/resources/:rid", "Delete a resource with its accounts and passwords (manage)") { _, ctx in
            let p = try ctx.caller()
            try await custody.store.write { db in
                let (r, _) = try Catalog.resource(try ctx.param("rid"), p, .deleteResource, custody.authorizer, db)
                let accountIDs = try String.fetchAll(db, sql: "SELECT id FROM accounts WHERE resourceId = ?", arguments: [r.id])
                for a in accountIDs { try custody.refuseDuringReset(a, "deleting the resource", db) }
                try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'resource' AND objectId = ?", arguments: [r.id])
                for a in accountIDs {
                    try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'account' AND objectId = ?", arguments: [a])
                }
                _ = try r.delete(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "delete_resource",
                    resource: r.name, message: "with \(accountIDs.count) accounts", resourceId: r.id), in: db)
            }
            return Reply.noContent()
        }
        t.add(.post, "/resources/:rid/owner", "Transfer ownership to another administrator", body: OwnerBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(OwnerBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                var (r, _) = try Catalog.resource(try ctx.param("rid"), p, .transferOwnership, custody.authorizer, db)
                guard r.ownerId == p.userID || p.superAdmin else { throw APIError.forbidden("only the owner or a super-administrator can transfer") }
                let to = try Catalog.transferTarget(b.username, db)
                r.ownerId = to.id
                try r.update(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "transfer_ownership",
                    resource: r.name, message: "to \(to.username)", resourceId: r.id), in: db)
            }
            return Reply.noContent()
        }
    }
}

struct ResourceView: Codable, Sendable {
    var id, name, dnsName, type: String
    var description, department, location, url: String?
    var customFields: [String: String]
    var passwordPolicy: String?
    var owner: String
    var createdAt, updatedAt: Date
    init(_ r: ResourceRecord, owner: String) {
        id = r.id; name = r.name; dnsName = r.dnsName; type = r.type; description = r.description
        department = r.department; location = r.location; url = r.url; customFields = r.customFields
        passwordPolicy = r.passwordPolicy; self.owner = owner; createdAt = r.createdAt; updatedAt = r.updatedAt
    }
}

extension Custody {
    /// Creates a resource owned by `p` (validated body; the caller checked `.createResource`), audited.
    func createResource(_ b: ResourceBody, by p: Principal, ip: String) async throws -> ResourceRecord {
        let now = now()
        let r = ResourceRecord(id: newID(), name: b.name, dnsName: b.dnsName, type: b.type, description: b.description,
            department: b.department, location: b.location, url: b.url, customFields: b.customFields ?? [:],
            passwordPolicy: b.passwordPolicy, ownerId: p.userID, createdAt: now, updatedAt: now)
        try await store.write { db in
            try Catalog.requireType(r.type, db)
            if let pol = r.passwordPolicy { _ = try Catalog.policy(named: pol, db) }
            if try ResourceRecord.filter(Column("name") == r.name).fetchCount(db) > 0 {
                throw APIError.conflict("a resource named '\(r.name)' exists")
            }
            try r.insert(db)
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "create_resource", resource: r.name, resourceId: r.id), in: db)
        }
        return r
    }
}
