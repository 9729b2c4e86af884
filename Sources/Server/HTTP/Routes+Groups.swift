import Foundation
import GRDB
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

extension Routes {
    func groups(_ t: RouteTable) {
        t.add(.post, "/groups", "Create a static resource group", body: GroupBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createGroup)
            let b = try await req.decodeStrict(GroupBody.self, limit: custody.config.maxBodyBytes)
            let g = GroupRecord(id: newID(), name: b.name, ownerId: p.userID, passwordPolicy: b.passwordPolicy, createdAt: custody.now())
            let view = try await custody.store.write { db -> GroupView in
                if let pol = b.passwordPolicy { _ = try Catalog.policy(named: pol, db) }
                if try GroupRecord.filter(Column("name") == b.name).fetchCount(db) > 0 { throw APIError.conflict("a group named '\(b.name)' exists") }
                try g.insert(db)
                try Self.setGroupResources(g, b.resourceIds ?? [], p, custody, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "create_group", message: "group \(g.name)"), in: db)
                return try Self.groupView(g, db)
            }
            return try Reply.json(view, status: .created)
        }
        t.add(.get, "/groups", "List the groups you own or that are shared with you") { _, ctx in
            let p = try ctx.caller()
            let views = try await custody.store.read { db in
                try GroupRecord.order(Column("name")).fetchAll(db).filter { try Access.onGroup($0, p, db) != nil }.map { try Self.groupView($0, db) }
            }
            return try Reply.json(views)
        }
        t.add(.get, "/groups/:gid", "Show a group") { _, ctx in
            let p = try ctx.caller()
            let view = try await custody.store.read { db in
                try Self.groupView(try Catalog.group(try ctx.param("gid"), p, .readGroup, custody.authorizer, db).0, db)
            }
            return try Reply.json(view)
        }
        t.add(.put, "/groups/:gid/resources", "Replace a group's resources (manage)", body: GroupResourcesBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(GroupResourcesBody.self, limit: custody.config.maxBodyBytes)
            let view = try await custody.store.write { db -> GroupView in
                let (g, _) = try Catalog.group(try ctx.param("gid"), p, .updateGroup, custody.authorizer, db)
                try Self.setGroupResources(g, b.resourceIds, p, custody, db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "update_group",
                    message: "group \(g.name): \(b.resourceIds.count) resources"), in: db)
                return try Self.groupView(g, db)
            }
            return try Reply.json(view)
        }
        t.add(.delete, "/groups/:gid", "Delete a group (its resources stay)") { _, ctx in
            let p = try ctx.caller()
            try await custody.store.write { db in
                let (g, _) = try Catalog.group(try ctx.param("gid"), p, .deleteGroup, custody.authorizer, db)
                try db.execute(sql: "DELETE FROM shares WHERE objectKind = 'group' AND objectId = ?", arguments: [g.id])
                _ = try g.delete(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "delete_group", message: "group \(g.name)"), in: db)
            }
            return Reply.noContent()
        }
        t.add(.post, "/groups/:gid/owner", "Transfer a group to another administrator", body: OwnerBody.self) { req, ctx in
            let p = try ctx.caller()
            let b = try await req.decodeStrict(OwnerBody.self, limit: custody.config.maxBodyBytes)
            try await custody.store.write { db in
                var (g, _) = try Catalog.group(try ctx.param("gid"), p, .transferOwnership, custody.authorizer, db)
                guard g.ownerId == p.userID || p.superAdmin else { throw APIError.forbidden("only the owner or a super-administrator can transfer") }
                let to = try Catalog.transferTarget(b.username, db)
                g.ownerId = to.id
                try g.update(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "transfer_ownership",
                    message: "group \(g.name) to \(to.username)"), in: db)
            }
            return Reply.noContent()
        }
    }

    /// Only resources the caller manages may be put in a group.
    static func setGroupResources(_ g: GroupRecord, _ ids: [String], _ p: Principal, _ custody: Custody, _ db: Database) throws {
        for id in Set(ids) {
            guard let r = try ResourceRecord.fetchOne(db, key: id), let have = try Access.onResource(r, p, db) else {
                throw APIError.badRequest("unknown_resource", "no resource \(id) visible to you")
            }
            if have < .manage { throw APIError.forbidden("you need manage permission on resource \(r.name) to group it") }
        }
        try db.execute(sql: "DELETE FROM groupResources WHERE groupId = ?", arguments: [g.id])
        for id in Set(ids) {
            try db.execute(sql: "INSERT INTO groupResources(groupId, resourceId) VALUES (?, ?)", arguments: [g.id, id])
        }
    }

    static func groupView(_ g: GroupRecord, _ db: Database) throws -> GroupView {
        GroupView(id: g.id, name: g.name, owner: try Catalog.username(g.ownerId, db), passwordPolicy: g.passwordPolicy,
            resourceIds: try String.fetchAll(db, sql: "SELECT resourceId FROM groupResources WHERE groupId = ? ORDER BY resourceId", arguments: [g.id]))
    }
}
