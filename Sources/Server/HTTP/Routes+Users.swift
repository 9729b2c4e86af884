import Foundation
import GRDB
import Hummingbird
import Shared

struct UserBody: APIBody {
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
    func validate() throws { try Validate.text(email, field: "email", max: 254) }
}

struct UserView: Codable, Sendable {
    var id, username: String
    var role: Role
    var superAdmin: Bool
    var email: String?
    var mustChangePassword: Bool
    var createdAt: Date
    init(_ u: UserRecord) {
        id = u.id; username = u.username; role = u.role; superAdmin = u.superAdmin; email = u.email
        mustChangePassword = u.mustChangePassword; createdAt = u.createdAt
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
        t.add(.post, "/users", "Create a user (administrators)", body: UserBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createUser)  // before the body is read; the service decides again
            let body = try await req.decodeStrict(UserBody.self, limit: custody.config.maxBodyBytes)
            let user = try await custody.users.create(body, by: p, ip: ctx.remoteIP)
            return try Reply.json(UserView(user), status: .created)
        }
        t.add(.get, "/users", "List users (administrators)") { _, ctx in
            try Reply.json(try await custody.users.users(by: try ctx.caller()).map(UserView.init))
        }
        t.add(.get, "/users/:uid", "Show a user (administrators)") { _, ctx in
            try Reply.json(UserView(try await custody.users.user(try ctx.param("uid"), by: try ctx.caller())))
        }
        t.add(.patch, "/users/:uid", "Change a user's role, flag, email or password (administrators)", body: UserPatchBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateUser)
            let uid = try ctx.param("uid")
            let body = try await req.decodeStrict(UserPatchBody.self, limit: custody.config.maxBodyBytes)
            return try Reply.json(UserView(try await custody.users.update(uid, body, by: p, ip: ctx.remoteIP)))
        }
        t.add(.delete, "/users/:uid", "Delete a user who owns nothing (administrators)") { _, ctx in
            try await custody.users.delete(try ctx.param("uid"), by: try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        userGroups(t)
    }

    func userGroups(_ t: RouteTable) {
        t.add(.post, "/user-groups", "Create a user group (administrators)", body: UserGroupBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageUserGroups)
            let body = try await req.decodeStrict(UserGroupBody.self, limit: custody.config.maxBodyBytes)
            try Self.refuseSelfMembership(body.members ?? [], p)
            let id = newID()
            try await Self.members {
                try await custody.store.userGroups.create(id: id, name: body.name, members: body.members ?? [],
                    audit: AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "create_user_group", message: "group \(body.name)"))
            }
            return try Reply.json(["id": id, "name": body.name], status: .created)
        }
        t.add(.get, "/user-groups", "List user groups (administrators: all; others: their own)") { _, ctx in
            let p = try ctx.caller()
            let everything = p.role == .administrator || p.superAdmin
            return try Reply.json(try await custody.store.userGroups.groups(memberOf: everything ? nil : p.userID))
        }
        t.add(.put, "/user-groups/:gid/members", "Replace a user group's members (administrators)", body: MembersBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageUserGroups)
            let gid = try ctx.param("gid")
            let body = try await req.decodeStrict(MembersBody.self, limit: custody.config.maxBodyBytes)
            try Self.refuseSelfMembership(body.members, p)
            let found = try await Self.members {
                try await custody.store.userGroups.setMembers(gid, body.members, audit: AuditEvent(user: p.username, ip: ctx.remoteIP,
                    operation: "update_user_group", message: "group \(gid): \(body.members.joined(separator: ","))"))
            }
            guard found else { throw APIError.notFound("user group") }
            return Reply.noContent()
        }
        t.add(.delete, "/user-groups/:gid", "Delete a user group and its shares (administrators)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .manageUserGroups)
            let gid = try ctx.param("gid")
            let event = AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "delete_user_group", message: "group \(gid)")
            guard try await custody.store.userGroups.delete(gid, audit: event) else { throw APIError.notFound("user group") }
            return Reply.noContent()
        }
    }

    /// A store's refusal of a group's name or members, as the API says it.
    static func members<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as StoreError where e.code == .notFound {
            throw APIError.badRequest("unknown_user", e.message)
        } catch let e as StoreError where e.code == .conflict {
            throw APIError.conflict(e.message)
        }
    }

    /// Joining a group that may hold shares would be a way around sharing; a super-administrator may.
    static func refuseSelfMembership(_ members: [String], _ p: Principal) throws {
        if !p.superAdmin && members.contains(where: { $0.lowercased() == p.username.lowercased() }) {
            throw APIError.forbidden("you cannot add yourself to a user group")
        }
    }
}
