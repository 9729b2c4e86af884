import Foundation
import Hummingbird
import Shared

/// Two-factor set-up: a new secret and its otpauth URI to scan, or, once confirmed, enabled.
struct TOTPAnswer: Codable, Sendable {
    var enabled: Bool
    var secret: String? = nil
    var uri: String? = nil
}

extension Routes {
    /// Two-factor sign-in (TOTP): set up and turn on (yourself), turn off (yourself, with your
    /// password), reset (administrators, for another user).
    func totp(_ t: RouteTable) {
        t.add(.post, "/auth/totp", "Set up two-factor sign-in: no otp → a new secret and its otpauth URI; otp → turns it on", body: TOTPBody.self,
            response: .object(TOTPAnswer.self)) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(TOTPBody.self, limit: custody.config.maxBodyBytes)
            if let otp = body.otp, !otp.isEmpty {
                try await custody.identity.confirmTOTP(p, otp: otp, ip: ctx.remoteIP)
                return try Reply.json(TOTPAnswer(enabled: true))
            }
            let secret = try await custody.identity.startTOTP(p, ip: ctx.remoteIP)
            var response = try Reply.json(TOTPAnswer(enabled: false, secret: TOTP.key(secret), uri: TOTP.uri(secret, username: p.username)))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        t.add(.post, "/auth/totp/disable", "Turn your two-factor sign-in off (your password)", body: TOTPDisableBody.self, response: .empty) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(TOTPDisableBody.self, limit: custody.config.maxBodyBytes)
            try await custody.identity.disableOwnTOTP(p, password: body.password, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/users/:uid/totp", "Reset a user's two-factor sign-in, e.g. after a lost phone (administrators)", response: .empty) { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateUser)
            try await custody.identity.resetTOTP(userID: try ctx.param("uid"), by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }
}
