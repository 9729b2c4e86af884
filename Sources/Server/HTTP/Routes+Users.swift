import Foundation
import GRDB
import Hummingbird
import Shared

struct UserBody: APIBody {
    /// What `checkUserPassword` asks of a user's password (it also must not contain the user name).
    static var passwordShape: [String: Any] {
        ["minLength": IdentityService.minUserPasswordLength, "maxLength": 72, "pattern": "^[^\\u0000-\\u001f\\u007f]*$",
            "description": "at most 72 bytes (bcrypt's limit); not containing the user name"]
    }
    static let fields = ["username", "password", "role", "superAdmin", "email"]
    static let required = ["username", "password", "role"]
    var username: String
    var password: String
    var role: Role
    var superAdmin: Bool?
    var email: String?
    func validate() throws {
        try Validate.name(username, field: "username", max: 100)
        try Validate.text(email, field: "email", max: 254)
        Validate.recorder?.note("password", Self.passwordShape)
        if superAdmin == true && !(role == .administrator || role == .passwordAdministrator) {
            throw DomainError.invalid("invalid_field", "only administrators and password administrators can be super-administrators")
        }
    }
}

struct UserPatchBody: APIBody {
    static let fields = ["role", "superAdmin", "email", "password"]
    var role: Role?
    var superAdmin: Bool?
    var email: String?
    var password: String?
    func validate() throws {
        try Validate.text(email, field: "email", max: 254)
        Validate.recorder?.note("password", UserBody.passwordShape)
    }
}

struct UserView: Codable, Sendable {
    var id, username: String
    var role: Role
    var superAdmin: Bool
    var email: String?
    var mustChangePassword: Bool
    var createdAt: Date
    /// Signs in with the directory (no local password).
    var directory: Bool
    /// A directory user a sync disabled: no sign-in until an import finds it again.
    var disabled: Bool
    init(_ u: UserRecord) {
        id = u.id; username = u.username; role = u.role; superAdmin = u.superAdmin; email = u.email
        mustChangePassword = u.mustChangePassword; createdAt = u.createdAt
        directory = u.isDirectoryUser; disabled = u.isDisabled
    }
}

struct UserGroupBody: APIBody {
    static let fields = ["name", "members"]
    static let required = ["name"]
    var name: String
    var members: [String]?
    func validate() throws { try Validate.name(name, field: "name") }
}

struct MembersBody: APIBody {
    static let fields = ["members"]
    static let required = fields
    var members: [String]
}

extension Routes {
    func users(_ t: RouteTable) {
        t.add(.post, "/users", "Create a user (administrators)", body: UserBody.self, response: .object(UserView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createUser)  // before the body is read; the service decides again
            let body = try await req.decodeStrict(UserBody.self, limit: custody.config.maxBodyBytes)
            let user = try await custody.users.create(body, by: p, ip: ctx.remoteIP)
            return try Reply.json(UserView(user), status: .created)
        }
        t.add(.get, "/users", "List users by user name (administrators; ?name= prefix, role=; paged: limit=, cursor=)",
            response: .list(UserView.self), query: QueryParam.paging() + [QueryParam("name"), .choice("role", Role.self)]) { req, ctx in
            let q = ListParameters(req)
            let users = try await custody.users.users(named: try q.text("name"), role: try q.choice("role", Role.self), try q.page(),
                by: try ctx.caller())
            return try Reply.page(users.map(UserView.init), req)
        }
        t.add(.get, "/users/:uid", "Show a user (administrators)", response: .object(UserView.self)) { _, ctx in
            try Reply.json(UserView(try await custody.users.user(try ctx.param("uid"), by: try ctx.caller())))
        }
        t.add(.patch, "/users/:uid", "Change a user's role, flag, email or password (administrators)", body: UserPatchBody.self, response: .object(UserView.self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateUser)
            let uid = try ctx.param("uid")
            let body = try await req.decodeStrict(UserPatchBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(UserView(try await custody.users.update(uid, body, by: p, ip: ctx.remoteIP)))
        }
        t.add(.delete, "/users/:uid", "Delete a user who owns nothing (administrators)", response: .empty) { _, ctx in
            try await custody.users.delete(try ctx.param("uid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        userGroups(t)
    }

    func userGroups(_ t: RouteTable) {
        t.add(.post, "/user-groups", "Create a user group (administrators)", body: UserGroupBody.self, response: .object([String: String].self)) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageUserGroups)
            let body = try await req.decodeStrict(UserGroupBody.self, limit: custody.config.maxBodyBytes)
            let id = try await custody.userGroups.create(name: body.name, members: body.members ?? [], by: p, ip: ctx.remoteIP)
            return try Reply.json(["id": id, "name": body.name], status: .created)
        }
        t.add(.get, "/user-groups", "List user groups by name (administrators: all; others: their own; ?name= prefix; "
            + "paged: limit=, cursor=)", response: .list(UserGroup.self), query: QueryParam.paging() + [QueryParam("name")]) { req, ctx in
            let q = ListParameters(req)
            return try Reply.page(try await custody.userGroups.groups(named: try q.text("name"), try q.page(), visibleTo: try ctx.caller()), req)
        }
        t.add(.put, "/user-groups/:gid/members", "Replace a user group's members (administrators)", body: MembersBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageUserGroups)
            let body = try await req.decodeStrict(MembersBody.self, limit: custody.config.maxBodyBytes)
            try await custody.userGroups.setMembers(try ctx.param("gid"), body.members, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/user-groups/:gid", "Delete a user group and its shares (administrators)", response: .empty) { _, ctx in
            try await custody.userGroups.delete(try ctx.param("gid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }
}
