import Foundation
import HTTPTypes
import Hummingbird
import Shared

/// Signing in and out, and the forced first password change.
extension WebConsole {
    func auth(_ web: RouterGroup<AppContext>) {
        web.get("/login") { request, _ in
            if try await visitor(request) != nil { return Self.redirect("/home") }
            return try loginPage(error: nil, username: "")
        }
        web.post("/login") { request, ctx in
            let f = try await WebForm.parse(request, limit: custody.config.maxBodyBytes)
            // Before a session exists, the token is a cookie the form must repeat (double submit).
            guard let expected = WebForm.cookies(request)[WebForm.loginCookie], WebForm.equal(f["_csrf"] ?? "", expected) else {
                return try render("error", ["status": "403", "message": "the form is stale or forged; reload the login page"], status: .forbidden)
            }
            let username = f["username"] ?? ""
            guard !username.isEmpty, username.count <= 200, let password = f["password"], !password.isEmpty else {
                return try loginPage(error: "Enter your user name and password.", username: username)
            }
            let result: IdentityService.LoginResult
            do {
                let otp = f["otp"].flatMap { $0.isEmpty ? nil : String($0.prefix(20)) }
                result = try await custody.identity.login(username: username, password: Secret(password), otp: otp, ip: ctx.remoteIP, kind: .web)
            } catch let e as any APIFailure {
                // With two-factor sign-in on, the form asks for the code too (and the password again).
                let askCode = e.code == "otp_required" || e.code == "invalid_otp"
                let message = e.code == "otp_required" ? "Enter your password and the code from your authenticator app." : e.message
                return try loginPage(error: message, username: username, askCode: askCode, status: e.status)
            }
            // A session this browser already had ends: one browser, one session.
            if let old = WebForm.cookies(request)[WebForm.sessionCookie], let p = try await custody.identity.authenticate(token: old, kinds: [.web]) {
                try await custody.identity.endSession(p)
            }
            var headers = HTTPFields()
            headers.append(HTTPField(name: .setCookie, value: WebForm.cookie(WebForm.sessionCookie, result.token)))
            headers.append(HTTPField(name: .setCookie, value: WebForm.cookie(WebForm.loginCookie, "", maxAge: 0)))
            return Self.redirect(result.mustChangePassword ? "/password" : "/home", headers: headers)
        }
        web.post("/logout") { request, ctx in
            try await page(request, allowMustChange: true) { v in
                _ = try await form(request, v)
                try await custody.identity.logout(v.principal, ip: ctx.remoteIP)
                var headers = HTTPFields()
                headers.append(HTTPField(name: .setCookie, value: WebForm.cookie(WebForm.sessionCookie, "", maxAge: 0)))
                return Self.redirect("/login", headers: headers)
            }
        }
        web.get("/password") { request, _ in
            try await page(request, allowMustChange: true) { v in try passwordPage(v, errors: [:]) }
        }
        web.post("/password") { request, ctx in
            try await page(request, allowMustChange: true) { v in
                let f = try await form(request, v)
                let current = f["currentPassword"] ?? "", new = f["newPassword"] ?? ""
                if new != f["confirmPassword"] { return try passwordPage(v, errors: ["confirm": "The two new passwords differ."], status: .badRequest) }
                do {
                    try await custody.identity.changeOwnPassword(v.principal, current: Secret(current), new: Secret(new), ip: ctx.remoteIP)
                } catch let e as any APIFailure {
                    let field = e.code == "invalid_credentials" || e.status == .unauthorized ? "current" : "new"
                    return try passwordPage(v, errors: [field: e.message], status: e.status)
                }
                // A new session after the change: a token seen before it is worth nothing.
                let token = try await custody.identity.renewWebSession(v.principal)
                var headers = HTTPFields()
                headers.append(HTTPField(name: .setCookie, value: WebForm.cookie(WebForm.sessionCookie, token)))
                return Self.redirect("/home", headers: headers)
            }
        }
    }

    func loginPage(error: String?, username: String, askCode: Bool = false, status: HTTPResponse.Status = .ok) throws -> Response {
        let token = WebForm.random()
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: WebForm.cookie(WebForm.loginCookie, token)))
        var values: [String: Any] = ["csrf": token, "username": username, "askCode": askCode]
        if let error { values["error"] = error }
        return try render("login", values, status: status, headers: headers)
    }

    func passwordPage(_ v: Visitor, errors: [String: String], status: HTTPResponse.Status = .ok) throws -> Response {
        try render("password", ["nav": nav(v), "csrf": v.csrf, "forced": v.principal.mustChangePassword, "errors": errors], status: status)
    }
}
