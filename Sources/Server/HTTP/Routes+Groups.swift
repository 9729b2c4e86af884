import Foundation
import Hummingbird

struct GroupBody: APIBody {
    static let fields = ["name", "resourceIds", "passwordPolicy"]
    static let required = ["name"]
    var name: String
    var resourceIds: [String]?
    var passwordPolicy: String?
    func validate() throws { try Validate.name(name, field: "name") }
}

struct GroupResourcesBody: APIBody {
    static let fields = ["resourceIds"]
    static let required = fields
    var resourceIds: [String]
}

struct GroupView: Codable, Sendable {
    var id, name, owner: String
    var passwordPolicy: String?
    var resourceIds: [String]
}

extension GroupView {
    init(_ e: GroupEntry) {
        self.init(id: e.group.id, name: e.group.name, owner: e.owner, passwordPolicy: e.group.passwordPolicy, resourceIds: e.resourceIds)
    }
}

extension Routes {
    func groups(_ t: RouteTable) {
        t.add(.post, "/groups", "Create a static resource group", body: GroupBody.self, response: .object(GroupView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createGroup)  // before the body is read; the service decides again
            let b = try await req.decodeStrict(GroupBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(GroupView(try await custody.groups.create(b, by: p, ip: ctx.remoteIP)), status: .created)
        }
        t.add(.get, "/groups", "List the groups you own or that are shared with you, by name (?name= prefix; "
            + "paged: limit=, cursor=)", response: .list(GroupView.self),
            query: QueryParam.paging() + [QueryParam("name", .string, "names starting with this, ASCII letters in any case")]) { req, ctx in
            let q = ListParameters(req)
            let groups = try await custody.groups.groups(named: try q.text("name"), try q.page(), visibleTo: try ctx.caller())
            return try Reply.page(groups.map(GroupView.init), req)
        }
        t.add(.get, "/groups/:gid", "Show a group", response: .object(GroupView.self)) { _, ctx in
            try Reply.json(GroupView(try await custody.groups.group(try ctx.param("gid"), by: try ctx.caller())))
        }
        t.add(.put, "/groups/:gid/resources", "Replace a group's resources (manage)", body: GroupResourcesBody.self, response: .object(GroupView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateGroup)  // the role's ceiling, the same for every group
            let b = try await req.decodeStrict(GroupResourcesBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(GroupView(try await custody.groups.setResources(try ctx.param("gid"), b.resourceIds, by: p, ip: ctx.remoteIP)))
        }
        t.add(.delete, "/groups/:gid", "Delete a group (its resources stay)", response: .empty) { _, ctx in
            try await custody.groups.delete(try ctx.param("gid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/groups/:gid/owner", "Transfer a group to another administrator", body: OwnerBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .transferOwnership)
            let b = try await req.decodeStrict(OwnerBody.self, limit: custody.config.maxBodyBytes)
            try await custody.groups.transfer(try ctx.param("gid"), to: b.username, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }
}
