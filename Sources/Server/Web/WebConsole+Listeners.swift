import Foundation
import HTTPTypes
import Hummingbird

/// Listeners: the list, one listener's script for review, and approve, reject, disable or
/// enable (the API enforces dual control: the author never approves).
extension WebConsole {
    func listeners(_ web: RouterGroup<AppContext>) {
        web.get("/listeners") { request, ctx in
            try await page(request) { v in
                let rows = try await api.call(.get, "/listeners", as: v.principal, ctx).array.map { Self.strings($0) }
                var values: [String: Any] = ["nav": nav(v), "listeners": rows]
                if let n = Self.notice(request) { values["notice"] = n }
                return try render("listeners", values)
            }
        }
        web.get("/listeners/:lid") { request, ctx in
            try await page(request) { v in
                let l = try await api.call(.get, "/listeners/:lid", ["lid": try ctx.parameters.require("lid")], as: v.principal, ctx).object
                var view = Self.strings(l)
                let status = view["status"] ?? ""
                let mine = view["author"]?.lowercased() == v.principal.username.lowercased()
                var can: [String: Bool] = ["disable": status != "disabled", "enable": status == "disabled"]
                can["approve"] = !mine && (status == "pendingApproval" || status == "rejected")
                can["reject"] = !mine && status == "pendingApproval"
                var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "listener": view, "can": can,
                    "resourceTypes": l["resourceTypes"] as? [String] ?? [], "warnings": l["warnings"] as? [String] ?? []]
                view["mine"] = mine ? "yes" : nil
                values["listener"] = view
                if let n = Self.notice(request) { values["notice"] = n }
                return try render("listener", values)
            }
        }
        for action in ["approve", "reject", "disable", "enable"] {
            web.post(RouterPath("/listeners/:lid/" + action)) { request, ctx in
                try await page(request) { v in
                    let f = try await form(request, v), lid = try ctx.parameters.require("lid")
                    // Approve and reject name the revision the visitor reviewed on the page.
                    let query = ["approve", "reject"].contains(action) ? ["revision": f["revision"] ?? ""] : [:]
                    _ = try await api.call(.post, "/listeners/:lid/" + action, ["lid": lid], query: query, as: v.principal, ctx)
                    let done = ["approve": "approved", "reject": "rejected", "disable": "disabled", "enable": "enabled"][action]!
                    return Self.redirect("/listeners/\(lid)?notice=\(done)")
                }
            }
        }
    }
}
