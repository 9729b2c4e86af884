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
                let groupSeen = groups.contains { $0.group.id == group }
                let types = try await custody.policies.resourceTypes(by: p).map(\.name).sorted { $0.lowercased() < $1.lowercased() }
                // One page of 100 by name, as the API pages it; a group the caller cannot see filters nothing in.
                let filter = ResourceFilter(type: type.isEmpty ? nil : type, groupId: group.isEmpty ? nil : (groupSeen ? group : ""),
                    search: text.isEmpty ? nil : text, syncStatus: SyncStatus(rawValue: sync))
                let after = q.get("after").flatMap { PageCursor(token: String($0)) }
                let found = try await custody.resources.resources(filter, PageRequest(limit: 100, after: after), by: p)
                var rows: [Row] = []
                for entry in found.items {
                    let r = entry.resource
                    // A resource deleted or unshared since the list was read is left out, not an error.
                    guard let accounts = try? await custody.accounts.accounts(of: r.id, by: p) else { continue }
                    rows.append(Row(id: r.id, name: r.name, dnsName: r.dnsName, type: r.type, owner: entry.owner, accounts: accounts.count,
                        outOfSync: accounts.filter { $0.syncStatus == .outOfSync }.count))
                }
                let here = ["q": text, "type": type, "group": group, "sync": sync].filter { !$0.value.isEmpty }
                return try render("resources", ["nav": nav(v), "resources": rows, "count": rows.count, "q": text,
                    "more": found.next != nil, "paged": after != nil,
                    "next": found.next.map { Self.link("/resources", here.merging(["after": $0.token]) { $1 }) } ?? "",
                    "first": Self.link("/resources", here),
                    "types": types.map { ["name": $0, "selected": $0 == type] },
                    "statuses": Self.syncStatuses.map { ["name": $0, "text": ConsoleWords.state($0), "selected": $0 == sync] },
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
        let p = v.principal
        let entry = try await custody.resources.resource(rid, by: p)
        let (r, owner) = (entry.resource, entry.owner)
        let accounts = try await custody.accounts.accounts(of: rid, by: p)
        let ops: [(String, Operation)] = [("edit", .updateResource), ("delete", .deleteResource), ("addAccount", .createAccount),
            ("transfer", .transferOwnership)]
        let allowed = try await custody.resources.allowed(ops.map(\.1), on: rid, by: p)
        var can = Dictionary(uniqueKeysWithValues: ops.map { ($0.0, allowed.contains($0.1)) })
        can["transfer"] = can["transfer"] == true && (r.ownerId == p.userID || p.superAdmin)
        var resource: [String: String] = ["id": r.id, "name": r.name, "dnsName": r.dnsName, "type": r.type,
            "description": r.description ?? "", "department": r.department ?? "", "location": r.location ?? "", "owner": owner]
        var form = resource
        for (k, v) in values where form[k] != nil && k != "id" { form[k] = v }
        resource["csrf"] = v.csrf
        var page: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "resource": resource, "form": form, "errors": errors, "can": can,
            "accounts": accounts.map { a in ["id": a.id, "loginName": a.loginName, "description": a.description ?? "",
                "syncStatus": a.syncStatus.rawValue, "syncStatusText": ConsoleWords.state(a.syncStatus.rawValue), "lastVerifiedAt": Self.when(a.lastVerifiedAt), "lastChangedAt": a.lastChangedAt == nil ? "never: the password is unknown until its first reset" : Self.when(a.lastChangedAt)] }]
        if let shares = try await shares(.resource(rid), v) {
            page["shares"] = ["list": shares, "shareAction": "/resources/\(rid)/shares", "permissions": ["view", "modify", "manage"]] as [String: Any]
        }
        if let notice { page["notice"] = notice }
        return try render("resource", page, status: status)
    }
}

extension WebConsole {
    /// A list page's cursor, from `?after=` (a token this server made; anything else is the first page).
    static func after(_ request: Request) -> PageCursor? { request.uri.queryParameters.get("after").flatMap { PageCursor(token: String($0)) } }

    /// The pager of a list of 100 (`more`, `paged`, `next`, `first`), as the template's pager reads it.
    static func pager(_ path: String, after: PageCursor?, next: PageCursor?) -> [String: Any] {
        ["more": next != nil, "paged": after != nil, "next": next.map { link(path, ["after": $0.token]) } ?? "", "first": path]
    }

    /// A console URL with its query, values escaped.
    static func link(_ path: String, _ query: [String: String]) -> String {
        var c = URLComponents()
        c.path = path
        c.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
        return query.isEmpty ? path : (c.string ?? path)
    }
}
