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

    static let syncStatuses = ["inSync", "outOfSync", "unknown", "unreachable", "neverChecked"]

    func resources(_ web: RouterGroup<AppContext>) {
        web.get("/resources") { request, _ in
            try await page(request) { v in
                let p = v.principal
                try custody.authorizer.check(p, .listResources)
                let q = request.uri.queryParameters
                let text = String(q.get("q") ?? "").lowercased()
                let type = String(q.get("type") ?? "")
                let sync = String(q.get("sync") ?? "")
                let (rows, types) = try await custody.store.read { db -> ([Row], [String]) in
                    var rows: [Row] = []
                    for r in try Access.visibleResources(p, db) {
                        if !text.isEmpty, !r.name.lowercased().contains(text), !r.dnsName.lowercased().contains(text) { continue }
                        if !type.isEmpty, r.type != type { continue }
                        let accounts = try AccountRecord.filter(Column("resourceId") == r.id).fetchAll(db)
                            .filter { try Access.onAccount($0, resource: r, p, db) != nil }
                        if !sync.isEmpty, !accounts.contains(where: { $0.syncStatus.rawValue == sync }) { continue }
                        rows.append(Row(id: r.id, name: r.name, dnsName: r.dnsName, type: r.type, owner: try Catalog.username(r.ownerId, db),
                            accounts: accounts.count, outOfSync: accounts.filter { $0.syncStatus == .outOfSync }.count))
                    }
                    return (rows, try String.fetchAll(db, sql: "SELECT name FROM resourceTypes ORDER BY name"))
                }
                return try render("resources", ["nav": nav(v), "resources": rows, "count": rows.count, "q": text,
                    "types": types.map { ["name": $0, "selected": $0 == type] },
                    "statuses": Self.syncStatuses.map { ["name": $0, "selected": $0 == sync] }])
            }
        }
        web.get("/resources/:rid") { request, ctx in
            try await page(request) { v in try await resourcePage(v, rid: try ctx.parameters.require("rid")) }
        }
    }

    func resourcePage(_ v: Visitor, rid: String, accountError: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let p = v.principal
        let (r, accounts, owner) = try await custody.store.read { db in
            let (r, _) = try Catalog.resource(rid, p, .readResource, custody.authorizer, db, visibleViaAccounts: true)
            let all = try AccountRecord.filter(Column("resourceId") == r.id).order(Column("loginName")).fetchAll(db)
            return (r, try all.filter { try Access.onAccount($0, resource: r, p, db) != nil }, try Catalog.username(r.ownerId, db))
        }
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": ["id": r.id, "name": r.name, "dnsName": r.dnsName, "type": r.type,
            "description": r.description ?? "", "department": r.department ?? "", "location": r.location ?? "", "owner": owner],
            "accounts": accounts.map { a in ["id": a.id, "loginName": a.loginName, "description": a.description ?? "",
                "syncStatus": a.syncStatus.rawValue, "lastVerifiedAt": Self.when(a.lastVerifiedAt), "lastChangedAt": Self.when(a.lastChangedAt)] }]
        if let accountError { values["accountError"] = accountError }
        return try render("resource", values, status: status)
    }
}
