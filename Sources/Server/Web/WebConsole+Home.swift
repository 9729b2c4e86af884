import Foundation
import Hummingbird

/// The start page: what needs attention, in counts that link to the filtered lists.
extension WebConsole {
    func home(_ web: RouterGroup<AppContext>) {
        web.get("/home") { request, _ in
            try await page(request) { v in
                let p = v.principal
                var counts: [SyncStatus: Int] = [:]
                var total = 0
                for entry in try await custody.resources.resources(by: p) {
                    // A resource deleted or unshared since the list was read is left out.
                    guard let accounts = try? await custody.accounts.accounts(of: entry.resource.id, by: p) else { continue }
                    total += accounts.count
                    for a in accounts { counts[a.syncStatus, default: 0] += 1 }
                }
                let weekAgo = custody.now().addingTimeInterval(-7 * 86400)
                let failed = try await custody.engine.tasks(by: p, mine: false, state: .failed, limit: 200).filter { $0.task.createdAt >= weekAgo }.count
                var items: [[String: Any]] = []
                func add(_ n: Int, _ what: String, _ link: String, _ kind: String) {
                    items.append(["count": n, "what": what, "link": link, "kind": kind, "none": n == 0])
                }
                add(counts[.outOfSync] ?? 0, "passwords out of sync: the target no longer takes the stored password", "/resources?sync=outOfSync", "outOfSync")
                add(counts[.unreachable] ?? 0, "accounts whose target did not answer the last check", "/resources?sync=unreachable", "unreachable")
                add(counts[.unknown] ?? 0, "accounts whose last check could not tell", "/resources?sync=unknown", "unknown")
                add(counts[.missing] ?? 0, "accounts missing on their target or in the directory", "/resources?sync=missing", "missing")
                add(failed, "failed resets and verifies in the last 7 days", "/tasks?state=failed&all=1", "failed")
                let expiry = try await custody.expiry.report(by: p)
                add(expiry.summary.expired, "passwords past the maximum age their policy allows", "/expiry", "expired")
                add(expiry.summary.expiringSoon, "passwords reaching their maximum age within \(expiry.withinDays) days", "/expiry", "expiring")
                if p.role == .administrator {
                    let pending = try await custody.listeners.list(by: p).filter { $0.status == "pendingApproval" }.count
                    add(pending, "listeners awaiting a second administrator's approval", "/listeners", "pendingApproval")
                }
                return try render("home", ["nav": nav(v), "items": items, "accounts": total, "inSync": counts[.inSync] ?? 0,
                    "neverChecked": counts[.neverChecked] ?? 0, "allClear": items.allSatisfy { ($0["none"] as? Bool) == true }])
            }
        }
        web.get("/expiry") { request, _ in
            try await page(request) { v in
                let within = request.uri.queryParameters.get("within").flatMap { Int(String($0)) } ?? ExpiryReport.defaultWithin
                let report = try await custody.expiry.report(by: v.principal, withinDays: within)
                let rows = report.accounts.map { r -> [String: Any] in
                    ["resourceId": r.resourceId, "resource": r.resource, "accountId": r.accountId, "account": r.account, "policy": r.policy,
                        "maxAgeDays": r.maxAgeDays, "changedAt": Self.when(r.changedAt), "expiresAt": Self.when(r.expiresAt),
                        "state": r.expired ? "expired" : "expires soon", "kind": r.expired ? "outOfSync" : "unknown"]
                }
                return try render("expiry", ["nav": nav(v), "accounts": rows, "within": report.withinDays, "expired": report.summary.expired,
                    "expiring": report.summary.expiringSoon, "withMaxAge": report.summary.withMaxAge])
            }
        }
    }
}
