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
            throw APIError.badRequest("invalid_field", "only administrators and password administrators can be super-administrators")
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
            try custody.authorizer.check(p, .createUser)
            let body = try await req.decodeStrict(UserBody.self, limit: custody.config.maxBodyBytes)
            try Custody.checkUserPassword(Secret(body.password), username: body.username)
            if body.superAdmin == true && !p.superAdmin {
                throw APIError.forbidden("only a super-administrator can create super-administrators")
            }
            if body.role == .administrator && !p.superAdmin {
                throw APIError.forbidden("only a super-administrator can create administrators")
            }
            let hash = try await PasswordHashing.hash(body.password, cost: custody.config.bcryptCost)
            let user = UserRecord(id: newID(), username: body.username, passwordHash: hash, role: body.role,
                superAdmin: body.superAdmin ?? false, email: body.email, mustChangePassword: true, createdAt: custody.now(),
                createdById: p.userID)
            try await custody.store.write { db in
                if try UserRecord.filter(Column("username") == body.username).fetchCount(db) > 0 {
                    throw APIError.conflict("a user named '\(body.username)' exists")
                }
                try user.insert(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "create_user",
                    message: "user \(user.username) as \(user.role.rawValue)"), in: db)
            }
            return try Reply.json(UserView(user), status: .created)
        }
        t.add(.get, "/users", "List users (administrators)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .listUsers)
            let users = try await custody.store.read { try UserRecord.order(Column("username")).fetchAll($0) }
            return try Reply.json(users.map(UserView.init))
        }
        t.add(.get, "/users/:uid", "Show a user (administrators)") { _, ctx in
            try custody.authorizer.check(try ctx.caller(), .listUsers)
            let uid = try ctx.param("uid")
            guard let u = try await custody.store.read({ try UserRecord.fetchOne($0, key: uid) }) else { throw APIError.notFound("user") }
            return try Reply.json(UserView(u))
        }
        t.add(.patch, "/users/:uid", "Change a user's role, flag, email or password (administrators)", body: UserPatchBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateUser)
            let uid = try ctx.param("uid")
            let body = try await req.decodeStrict(UserPatchBody.self, limit: custody.config.maxBodyBytes)
            if uid == p.userID && (body.role != nil || body.superAdmin != nil || body.password != nil) {
                throw APIError.forbidden("you cannot change your own role, scope or password here; use POST /auth/password")
            }
            guard let target = try await custody.store.read({ try UserRecord.fetchOne($0, key: uid) }) else { throw APIError.notFound("user") }
            if target.superAdmin && !p.superAdmin { throw APIError.forbidden("only a super-administrator can change a super-administrator") }
            if body.superAdmin != nil && !p.superAdmin { throw APIError.forbidden("only a super-administrator can change that flag") }
            // Two-person control: administrators are made, and their credentials reset, only by a super-administrator.
            if !p.superAdmin && body.role == .administrator && target.role != .administrator {
                throw APIError.forbidden("only a super-administrator can promote a user to administrator")
            }
            if !p.superAdmin && target.role == .administrator && body.password != nil {
                throw APIError.forbidden("only a super-administrator can set another administrator's password")
            }
            var newHash: String? = nil
            if let pw = body.password {
                try Custody.checkUserPassword(Secret(pw), username: target.username)
                newHash = try await PasswordHashing.hash(pw, cost: custody.config.bcryptCost)
            }
            let hash = newHash
            let updated = try await custody.store.write { db -> UserRecord in
                guard var u = try UserRecord.fetchOne(db, key: uid) else { throw APIError.notFound("user") }
                if (body.role != nil && body.role != u.role) || (body.superAdmin != nil && body.superAdmin != u.superAdmin) {
                    u.promotedById = p.userID
                }
                if let r = body.role { u.role = r }
                if let s = body.superAdmin { u.superAdmin = s }
                if u.superAdmin && !(u.role == .administrator || u.role == .passwordAdministrator) {
                    throw APIError.badRequest("invalid_field", "only administrators and password administrators can be super-administrators")
                }
                if let e = body.email { u.email = e }
                if let h = hash {
                    u.passwordHash = h
                    u.mustChangePassword = true
                    u.credentialsResetById = p.userID
                    // A password set by an administrator ends the user's sessions and tokens.
                    try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE userId = ? AND revokedAt IS NULL",
                        arguments: [custody.now().seconds, uid])
                }
                if u.superAdmin && !p.superAdmin { throw APIError.forbidden("only a super-administrator can change a super-administrator") }
                try u.update(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "update_user",
                    message: "user \(u.username)" + (hash != nil ? " (password set)" : "")), in: db)
                return u
            }
            return try Reply.json(UserView(updated))
        }
        t.add(.delete, "/users/:uid", "Delete a user who owns nothing (administrators)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .deleteUser)
            let uid = try ctx.param("uid")
            if uid == p.userID { throw APIError.forbidden("you cannot delete yourself") }
            try await custody.store.write { db in
                guard let u = try UserRecord.fetchOne(db, key: uid) else { throw APIError.notFound("user") }
                if u.superAdmin && !p.superAdmin { throw APIError.forbidden("only a super-administrator can delete a super-administrator") }
                let owned = try Int.fetchOne(db, sql: "SELECT (SELECT COUNT(*) FROM resources WHERE ownerId = ?) + (SELECT COUNT(*) FROM groups WHERE ownerId = ?)",
                    arguments: [uid, uid]) ?? 0
                if owned > 0 { throw APIError.conflict("user \(u.username) owns \(owned) resources or groups; transfer them first") }
                try db.execute(sql: "DELETE FROM shares WHERE principalKind = 'user' AND principalId = ?", arguments: [uid])
                _ = try u.delete(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "delete_user", message: "user \(u.username)"), in: db)
            }
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
