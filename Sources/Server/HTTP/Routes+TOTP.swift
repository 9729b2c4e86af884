import Foundation
import GRDB
import Hummingbird
import Shared

extension Routes {
    /// Two-factor sign-in (TOTP): set up and turn on (yourself), turn off (yourself, with your
    /// password), reset (administrators, for another user).
    func totp(_ t: RouteTable) {
        t.add(.post, "/auth/totp", "Set up two-factor sign-in: no otp → a new secret and its otpauth URI; otp → turns it on", body: TOTPBody.self) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(TOTPBody.self, limit: custody.config.maxBodyBytes)
            if let otp = body.otp, !otp.isEmpty {
                try await custody.confirmTOTP(p, otp: otp, ip: ctx.remoteIP)
                return try Reply.json(["enabled": true])
            }
            let secret = try await custody.startTOTP(p, ip: ctx.remoteIP)
            struct Setup: Encodable { let enabled: Bool; let secret, uri: String }
            var response = try Reply.json(Setup(enabled: false, secret: TOTP.key(secret), uri: TOTP.uri(secret, username: p.username)))
            response.headers[.cacheControl] = "no-store"
            return response
        }
        t.add(.post, "/auth/totp/disable", "Turn your two-factor sign-in off (your password)", body: TOTPDisableBody.self) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(TOTPDisableBody.self, limit: custody.config.maxBodyBytes)
            let user = try await custody.store.read { db in try UserRecord.fetchOne(db, key: p.userID) }
            guard try await PasswordHashing.verify(body.password, hash: user?.passwordHash, cost: custody.config.bcryptCost) else {
                try await custody.audit(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "totp_disabled", outcome: "failure",
                    message: "wrong password"))
                throw APIError(.forbidden, "invalid_credentials", "the password is wrong")
            }
            try await custody.disableTOTP(userID: p.userID, username: p.username, by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.delete, "/users/:uid/totp", "Reset a user's two-factor sign-in, e.g. after a lost phone (administrators)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .updateUser)
            guard let target = try await custody.store.read({ try UserRecord.fetchOne($0, key: try ctx.param("uid")) }) else {
                throw APIError.notFound("user")
            }
            if target.superAdmin && !p.superAdmin { throw APIError.forbidden("only a super-administrator can change a super-administrator") }
            if target.role == .administrator && !p.superAdmin && target.id != p.userID {
                throw APIError.forbidden("only a super-administrator can reset another administrator's second factor")
            }
            try await custody.disableTOTP(userID: target.id, username: target.username, by: p, ip: ctx.remoteIP)
            try await custody.store.write { db in
                try db.execute(sql: "UPDATE users SET credentialsResetById = ? WHERE id = ?", arguments: [p.userID, target.id])
            }
            return Reply.noContent()
        }
    }
}
