import Foundation
import GRDB
import HTTPTypes
import Hummingbird

/// Resources and their accounts, as the API lists them for the same caller.
extension WebConsole {
    struct Row: Sendable {
        let id, name, dnsName, type, owner: String
        let accounts, outOfSync: Int
    }

    static let syncStatuses = ["inSync", "outOfSync", "unknown", "unreachable", "neverChecked", "missing"]

    func resources(_ web: RouterGroup<AppContext>) {
        web.get("/resources") { request, ctx in
            try await page(request) { v in
                let p = v.principal
                try custody.authorizer.check(p, .listResources)
                let q = request.uri.queryParameters
                let text = String(q.get("q") ?? "").lowercased()
                let type = String(q.get("type") ?? "")
                let sync = String(q.get("sync") ?? "")
                let group = String(q.get("group") ?? "")
                // Groups as the API lists them for this caller; a group filter keeps its resources only.
                let groups = try await custody.groups.groups(visibleTo: p)
                let members: Set<String>? = group.isEmpty ? nil : Set(groups.first { $0.group.id == group }?.resourceIds ?? [])
                let types = try await custody.policies.resourceTypes(by: p).map(\.name).sorted { $0.lowercased() < $1.lowercased() }
                let rows = try await custody.store.read { db -> [Row] in
                    var rows: [Row] = []
                    for r in try Access.visibleResources(p, db) {
                        if !text.isEmpty, !r.name.lowercased().contains(text), !r.dnsName.lowercased().contains(text) { continue }
                        if !type.isEmpty, r.type != type { continue }
                        if let members, !members.contains(r.id) { continue }
                        let accounts = try Access.visibleAccounts(of: r, p, db)
                        if !sync.isEmpty, !accounts.contains(where: { $0.syncStatus.rawValue == sync }) { continue }
                        rows.append(Row(id: r.id, name: r.name, dnsName: r.dnsName, type: r.type, owner: try Catalog.username(r.ownerId, db),
                            accounts: accounts.count, outOfSync: accounts.filter { $0.syncStatus == .outOfSync }.count))
                    }
                    return rows
                }
                return try render("resources", ["nav": nav(v), "resources": rows, "count": rows.count, "q": text,
                    "types": types.map { ["name": $0, "selected": $0 == type] },
                    "statuses": Self.syncStatuses.map { ["name": $0, "selected": $0 == sync] },
                    "groups": groups.map { ["id": $0.group.id, "name": $0.group.name, "selected": $0.group.id == group] }])
            }
        }
        web.get("/resources/:rid") { request, ctx in
            try await page(request) { v in
                try await resourcePage(v, ctx, rid: try ctx.parameters.require("rid"), notice: Self.notice(request))
            }
        }
    }

    func resourcePage(_ v: Visitor, _ ctx: AppContext, rid: String, errors: [String: String] = [:], values: [String: String] = [:],
        notice: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let p = v.principal, authorizer = custody.authorizer
        let (r, accounts, owner, can) = try await custody.store.read { db in
            let (r, _) = try Catalog.resource(rid, p, .readResource, authorizer, db, visibleViaAccounts: true)
            var can: [String: Bool] = [:]
            for (key, op) in [("edit", Operation.updateResource), ("delete", .deleteResource), ("addAccount", .createAccount),
                ("transfer", .transferOwnership)]
            {
                can[key] = (try? Catalog.resource(rid, p, op, authorizer, db)) != nil
            }
            can["transfer"] = can["transfer"] == true && (r.ownerId == p.userID || p.superAdmin)
            return (r, try Access.visibleAccounts(of: r, p, db), try Catalog.username(r.ownerId, db), can)
        }
        var resource: [String: String] = ["id": r.id, "name": r.name, "dnsName": r.dnsName, "type": r.type,
            "description": r.description ?? "", "department": r.department ?? "", "location": r.location ?? "", "owner": owner]
        var form = resource
        for (k, v) in values where form[k] != nil && k != "id" { form[k] = v }
        resource["csrf"] = v.csrf
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": resource, "form": form, "errors": errors, "can": can,
            "accounts": accounts.map { a in ["id": a.id, "loginName": a.loginName, "description": a.description ?? "",
                "syncStatus": a.syncStatus.rawValue, "lastVerifiedAt": Self.when(a.lastVerifiedAt), "lastChangedAt": Self.when(a.lastChangedAt)] }]
        if let shares = try await shares(.resource(rid), v) {
            page["shares"] = ["list": shares, "shareAction": "/resources/\(rid)/shares", "permissions": ["view", "modify", "manage"]] as [String: Any]
        }
        if let notice { page["notice"] = notice }
        return try render("resource", page, status: status)
    }
}
