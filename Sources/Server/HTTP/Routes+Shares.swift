import Foundation
import GRDB
import Hummingbird

struct SharesBody: APIBody {
    struct UserShare: Codable, Sendable { var username: String; var permission: Permission }
    struct GroupShare: Codable, Sendable { var name: String; var permission: Permission }
    static let fields = ["users", "userGroups"]
    var users: [UserShare]?
    var userGroups: [GroupShare]?
}

extension Routes {
    func shares(_ t: RouteTable) {
        t.add(.put, "/resources/:rid/shares", "Replace a resource's shares (manage)", body: SharesBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(SharesBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                let (r, _) = try Catalog.resource(try ctx.param("rid"), p, .share, custody.authorizer, db)
                try Self.replaceShares(.resource, r.id, b, by: p, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "share", resource: r.name,
                    message: Self.describe(b), resourceId: r.id), in: db)
            }
            return Reply.noContent()
        }
        t.add(.put, "/groups/:gid/shares", "Replace a group's shares (manage)", body: SharesBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(SharesBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                let (g, _) = try Catalog.group(try ctx.param("gid"), p, .share, custody.authorizer, db)
                try Self.replaceShares(.group, g.id, b, by: p, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "share",
                    message: "group \(g.name): " + Self.describe(b)), in: db)
            }
            return Reply.noContent()
        }
        t.add(.put, "/resources/:rid/accounts/:aid/shares", "Replace an account's shares (view or modify only)", body: SharesBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(SharesBody.self, limit: custody.config.maxBodyBytes)
            if (b.users ?? []).contains(where: { $0.permission == .manage }) || (b.userGroups ?? []).contains(where: { $0.permission == .manage }) {
                throw APIError.badRequest("invalid_permission", "manage can be shared on resources and groups, not on single accounts")
            }
            try await custody.store.write { db in
                let (r, a, _) = try Catalog.account(try ctx.param("rid"), try ctx.param("aid"), p, .share, custody.authorizer, db)
                try Self.replaceShares(.account, a.id, b, by: p, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "share", resource: r.name,
                    account: a.loginName, message: Self.describe(b), resourceId: r.id, accountId: a.id), in: db)
            }
            return Reply.noContent()
        }
        for (path, kind) in [("/resources/:rid/shares", "resource"), ("/groups/:gid/shares", "group"),
            ("/resources/:rid/accounts/:aid/shares", "account")]
        {
            t.add(.get, path, "List the \(kind)'s shares (manage)") { _, ctx in
                let p = try ctx.caller()
                let rows = try await custody.store.read { db -> [ShareRecord] in
                    let id: String
                    switch kind {
                    case "resource": id = try Catalog.resource(try ctx.param("rid"), p, .share, custody.authorizer, db).0.id
                    case "group": id = try Catalog.group(try ctx.param("gid"), p, .share, custody.authorizer, db).0.id
                    default:
                        id = try Catalog.account(try ctx.param("rid"), try ctx.param("aid"), p, .share, custody.authorizer, db).1.id
                    }
                    return try ShareRecord.filter(Column("objectKind") == kind && Column("objectId") == id).fetchAll(db)
                }
                struct Out: Encodable { var users: [SharesBody.UserShare] = []; var userGroups: [SharesBody.GroupShare] = [] }
                let out = try await custody.store.read { db -> Out in
                    var out = Out()
                    for s in rows {
                        if s.principalKind == .user {
                            out.users.append(.init(username: try Catalog.username(s.principalId, db), permission: s.permission))
                        } else if let name = try String.fetchOne(db, sql: "SELECT name FROM userGroups WHERE id = ?", arguments: [s.principalId]) {
                            out.userGroups.append(.init(name: name, permission: s.permission))
                        }
                    }
                    return out
                }
                return try Reply.json(out)
            }
        }
    }

    /// Replaces the object's shares. Nobody but a super-administrator grants to themselves or to
    /// their own user groups: such a grant would outlive the access it was made with. A grant they
    /// already hold may be sent back unchanged (a list read, edited and put back).
    static func replaceShares(_ kind: ShareRecord.ObjectKind, _ id: String, _ b: SharesBody, by p: Principal, _ db: Database) throws {
        if !p.superAdmin {
            let held = try ShareRecord.filter(Column("objectKind") == kind.rawValue && Column("objectId") == id).fetchAll(db)
            func holds(_ principal: String, _ permission: Permission) -> Bool {
                held.contains { $0.principalId == principal && $0.permission == permission }
            }
            if (b.users ?? []).contains(where: { $0.username.lowercased() == p.username.lowercased() && !holds(p.userID, $0.permission) }) {
                throw APIError.forbidden("you cannot share to yourself")
            }
            let mine = try Row.fetchAll(db, sql: """
                SELECT g.id, g.name FROM userGroups g JOIN userGroupMembers m ON m.groupId = g.id WHERE m.userId = ?
                """, arguments: [p.userID]).map { (id: $0["id"] as String, name: ($0["name"] as String).lowercased()) }
            if (b.userGroups ?? []).contains(where: { g in mine.contains { $0.name == g.name.lowercased() && !holds($0.id, g.permission) } }) {
                throw APIError.forbidden("you cannot share to a user group you belong to")
            }
        }
        try db.execute(sql: "DELETE FROM shares WHERE objectKind = ? AND objectId = ?", arguments: [kind.rawValue, id])
        for u in b.users ?? [] {
            guard let uid = try String.fetchOne(db, sql: "SELECT id FROM users WHERE username = ?", arguments: [u.username]) else {
                throw APIError.badRequest("unknown_user", "no user named '\(u.username)'")
            }
            try ShareRecord(objectKind: kind, objectId: id, principalKind: .user, principalId: uid, permission: u.permission).save(db)
        }
        for g in b.userGroups ?? [] {
            guard let gid = try String.fetchOne(db, sql: "SELECT id FROM userGroups WHERE name = ?", arguments: [g.name]) else {
                throw APIError.badRequest("unknown_user_group", "no user group named '\(g.name)'")
            }
            try ShareRecord(objectKind: kind, objectId: id, principalKind: .userGroup, principalId: gid, permission: g.permission).save(db)
        }
    }

    static func describe(_ b: SharesBody) -> String {
        let users = (b.users ?? []).map { "\($0.username)=\($0.permission.rawValue)" }
        let groups = (b.userGroups ?? []).map { "group \($0.name)=\($0.permission.rawValue)" }
        let all = users + groups
        return all.isEmpty ? "unshared" : all.joined(separator: ", ")
    }
}
