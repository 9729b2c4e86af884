import Foundation
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
        if let r = recorder { return r.note("dnsName", ["minLength": 1, "maxLength": 253, "pattern": "^[A-Za-z0-9._:\\[\\]-]+$"]) }
        let ok = !v.isEmpty && v.count <= 253 && v.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-._:[]".unicodeScalars.contains($0)
        }
        if !ok { throw APIError.badRequest("invalid_field", "field 'dnsName' must be a host name or IP address") }
    }
}

extension Routes {
    func resources(_ t: RouteTable) {
        t.add(.post, "/resources", "Create a resource", body: ResourceBody.self, response: .object(ResourceView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createResource)  // before the body is read; the service decides again
            let b = try await req.decodeStrict(ResourceBody.self, limit: custody.config.maxBodyBytes)
            let r = try await custody.resources.create(b, by: p, ip: ctx.remoteIP)
            return try Reply.json(ResourceView(r, owner: p.username), status: .created)
        }
        t.add(.get, "/resources", "List the resources you own or that are shared with you, by name "
            + "(?name= prefix, q= in the name or DNS name, type=, groupId=, owner=, syncStatus= of an account; paged: limit=, cursor=)",
            response: .list(ResourceView.self),
            query: QueryParam.paging() + [QueryParam("name", .string, "names starting with this, ASCII letters in any case"),
                QueryParam("q", .string, "in the name or DNS name, ASCII letters in any case"), QueryParam("type"), QueryParam("groupId"),
                QueryParam("owner", .string, "the owner's user name"), .choice("syncStatus", SyncStatus.self, "with an account in this state")]) { req, ctx in
            let q = ListParameters(req)
            let filter = ResourceFilter(namePrefix: try q.text("name"), type: try q.text("type"), groupId: try q.text("groupId"),
                owner: try q.text("owner"), search: try q.text("q"), syncStatus: try q.choice("syncStatus", SyncStatus.self))
            let p = try ctx.caller()
            if let g = filter.groupId { _ = try await custody.groups.group(g, by: p) }  // a group the caller cannot see is not found
            return Reply.page(try await custody.resources.resources(filter, try q.page(), by: p).map(ResourceView.init), req)
        }
        t.add(.get, "/resources/:rid", "Show a resource", response: .object(ResourceView.self)) { _, ctx in
            try Reply.json(ResourceView(try await custody.resources.resource(try ctx.param("rid"), by: try ctx.caller())))
        }
        t.add(.patch, "/resources/:rid", "Edit a resource (manage)", body: ResourcePatchBody.self, response: .object(ResourceView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateResource)  // the role's ceiling, the same for every resource
            let b = try await req.decodeStrict(ResourcePatchBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(ResourceView(try await custody.resources.update(try ctx.param("rid"), b, by: p, ip: ctx.remoteIP)))
        }
        t.add(.delete, "/resources/:rid", "Delete a resource with its accounts and passwords (manage)", response: .empty) { _, ctx in
            try await custody.resources.delete(try ctx.param("rid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/resources/:rid/owner", "Transfer ownership to another administrator", body: OwnerBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .transferOwnership)
            let b = try await req.decodeStrict(OwnerBody.self, limit: custody.config.maxBodyBytes)
            try await custody.resources.transfer(try ctx.param("rid"), to: b.username, by: p, ip: ctx.remoteIP)
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
    init(_ e: ResourceEntry) { self.init(e.resource, owner: e.owner) }
    init(_ r: ResourceRecord, owner: String) {
        id = r.id; name = r.name; dnsName = r.dnsName; type = r.type; description = r.description
        department = r.department; location = r.location; url = r.url; customFields = r.customFields
        passwordPolicy = r.passwordPolicy; self.owner = owner; createdAt = r.createdAt; updatedAt = r.updatedAt
    }
}
