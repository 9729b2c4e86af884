import Foundation
import Hummingbird

struct SharesBody: APIBody {
    struct UserShare: Codable, Sendable { var username: String; var permission: Permission }
    struct GroupShare: Codable, Sendable { var name: String; var permission: Permission }
    static let fields = ["users", "userGroups"]
    var users: [UserShare]?
    var userGroups: [GroupShare]?
}

extension SharesBody {
    var list: ShareList {
        ShareList(users: (users ?? []).map { .init(username: $0.username, permission: $0.permission) },
            userGroups: (userGroups ?? []).map { .init(name: $0.name, permission: $0.permission) })
    }
}

extension Routes {
    func shares(_ t: RouteTable) {
        let targets: [(path: String, kind: String, summary: String)] = [
            ("/resources/:rid/shares", "resource", "Replace a resource's shares (manage)"),
            ("/groups/:gid/shares", "group", "Replace a group's shares (manage)"),
            ("/resources/:rid/accounts/:aid/shares", "account", "Replace an account's shares (view or modify only)"),
        ]
        for (path, kind, summary) in targets {
            t.add(.put, path, summary, body: SharesBody.self, response: .empty) { req, ctx in
                let p = try ctx.caller()
                let b = try await req.decodeStrict(SharesBody.self, limit: custody.config.maxBodyBytes)
                try await custody.shares.replace(try Self.shareTarget(kind, ctx), with: b.list, by: p, ip: ctx.remoteIP)
                return Reply.noContent()
            }
            t.add(.get, path, "List the \(kind)'s shares (manage)", response: .object(ShareList.self)) { _, ctx in
                try Reply.json(try await custody.shares.shares(of: try Self.shareTarget(kind, ctx), by: try ctx.caller()))
            }
        }
    }

    static func shareTarget(_ kind: String, _ ctx: AppContext) throws -> ShareTarget {
        switch kind {
        case "resource": .resource(try ctx.param("rid"))
        case "group": .group(try ctx.param("gid"))
        default: .account(resource: try ctx.param("rid"), account: try ctx.param("aid"))
        }
    }
}
