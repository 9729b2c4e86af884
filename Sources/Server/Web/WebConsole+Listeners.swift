import Foundation
import HTTPTypes
import Hummingbird

/// Listeners: the list, one listener's script for review, and approve, reject, disable or
/// enable (the API enforces dual control: the author never approves).
extension WebConsole {
    func listeners(_ web: RouterGroup<AppContext>) {
        web.get("/listeners") { request, ctx in
            try await page(request) { v in
                let rows = try await custody.listeners.list(by: v.principal).map { Self.strings(try Self.object($0)) }
                var values: [String: Any] = ["nav": nav(v), "listeners": rows]
                if let n = Self.notice(request) { values["notice"] = n }
                return try render("listeners", values)
            }
        }
        web.get("/listeners/:lid") { request, ctx in
            try await page(request) { v in
                let l = try Self.object(try await custody.listeners.show(try ctx.parameters.require("lid"), by: v.principal))
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
                    var revision: Int?
                    if ["approve", "reject"].contains(action) {
                        guard let n = Int(f["revision"] ?? ""), n > 0 else {
                            throw DomainError.invalid("invalid_field", "revision must be a positive number")
                        }
                        revision = n
                    }
                    let step = Routes.actions[action]!
                    _ = try await custody.listeners.transition(lid, to: step.status, operation: step.operation, from: step.from, revision: revision,
                        by: v.principal, ip: ctx.remoteIP)
                    let done = ["approve": "approved", "reject": "rejected", "disable": "disabled", "enable": "enabled"][action]!
                    return Self.redirect("/listeners/\(lid)?notice=\(done)")
                }
            }
        }
    }

    /// A value as the API's JSON shows it (dates and all), for the templates.
    static func object<T: Encodable>(_ value: T) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: try JSONEncoder.api.encode(value)) as? [String: Any] ?? [:]
    }
}
