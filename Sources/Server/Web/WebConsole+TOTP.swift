import Foundation
import HTTPTypes
import Hummingbird

/// "Two-factor sign-in": set it up (secret and otpauth URI, then a code turns it on) or turn it
/// off with your password, through the API's `/auth/totp` routes.
extension WebConsole {
    func totp(_ web: RouterGroup<AppContext>) {
        web.get("/account/totp") { request, ctx in
            try await page(request) { v in try await totpPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/account/totp/setup") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                let setup = try await api.call(.post, "/auth/totp", json: [String: String](), as: v.principal, ctx).object
                return try await totpPage(v, ctx, setup: Self.strings(setup))
            }
        }
        web.post("/account/totp/confirm") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                return try await attempt("confirm", redirect: "/account/totp?notice=enabled2fa",
                    back: { e, s in try await totpPage(v, ctx, errors: e, status: s) }) {
                    _ = try await api.call(.post, "/auth/totp", json: ["otp": f["otp"] ?? ""], as: v.principal, ctx)
                    return nil
                }
            }
        }
        web.post("/account/totp/disable") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                do {
                    _ = try await api.call(.post, "/auth/totp/disable", json: ["password": f["password"] ?? ""], as: v.principal, ctx)
                    return Self.redirect("/account/totp?notice=disabled2fa")
                } catch let e as APIError where e.code == "invalid_credentials" {
                    return try await totpPage(v, ctx, errors: ["disable": e.message], status: .forbidden)
                }
            }
        }
    }

    func totpPage(_ v: Visitor, _ ctx: AppContext, setup: [String: String]? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let me = try await api.call(.get, "/auth/me", as: v.principal, ctx).object
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "enabled": me["totp"] as? Bool == true, "errors": errors]
        if let setup { values["setup"] = setup }
        if !errors.isEmpty && errors["confirm"] != nil { values["pending"] = true }
        if let notice { values["notice"] = notice }
        return try render("totp", values, status: status)
    }
}
