import Foundation
import HTTPTypes
import Hummingbird

/// "Two-factor sign-in": set it up (secret and otpauth URI, then a code turns it on) or turn it
/// off with your password, through the identity service as the API's `/auth/totp` routes do.
extension WebConsole {
    func totp(_ web: RouterGroup<AppContext>) {
        web.get("/account/totp") { request, ctx in
            try await page(request) { v in try await totpPage(v, ctx, notice: Self.notice(request)) }
        }
        web.post("/account/totp/setup") { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                let secret = try await custody.identity.startTOTP(v.principal, ip: ctx.remoteIP)
                return try await totpPage(v, ctx, setup: ["secret": TOTP.key(secret), "uri": TOTP.uri(secret, username: v.principal.username)])
            }
        }
        web.post("/account/totp/confirm") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                return try await attempt("confirm", redirect: "/account/totp?notice=enabled2fa",
                    back: { e, s in try await totpPage(v, ctx, errors: e, status: s) }) {
                    let body = TOTPBody(otp: f["otp"] ?? "")
                    try body.validate()
                    guard let otp = body.otp, !otp.isEmpty else { throw DomainError.invalid("missing_field", "field 'otp' is required") }
                    try await custody.identity.confirmTOTP(v.principal, otp: otp, ip: ctx.remoteIP)
                    return nil
                }
            }
        }
        web.post("/account/totp/disable") { request, ctx in
            try await page(request) { v in
                let f = try await form(request, v)
                do {
                    try await custody.identity.disableOwnTOTP(v.principal, password: f["password"] ?? "", ip: ctx.remoteIP)
                    return Self.redirect("/account/totp?notice=disabled2fa")
                } catch let e as any APIFailure where e.code == "invalid_credentials" {
                    return try await totpPage(v, ctx, errors: ["disable": e.message], status: .forbidden)
                }
            }
        }
    }

    func totpPage(_ v: Visitor, _ ctx: AppContext, setup: [String: String]? = nil, errors: [String: String] = [:], notice: String? = nil,
        status: HTTPResponse.Status = .ok) async throws -> Response
    {
        let enabled = try await custody.identity.totpEnabled(v.principal.userID)
        var values: [String: Any] = ["nav": nav(v), "csrf": v.csrf, "enabled": enabled, "errors": errors]
        if let setup { values["setup"] = setup }
        if !errors.isEmpty && errors["confirm"] != nil { values["pending"] = true }
        if let notice { values["notice"] = notice }
        return try render("totp", values, status: status)
    }
}
