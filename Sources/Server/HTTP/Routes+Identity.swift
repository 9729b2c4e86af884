import Foundation
import Hummingbird
import Shared

struct LoginBody: APIBody {
    static let fields = ["username", "password", "otp"]
    static let required = ["username", "password"]
    var username: String
    var password: String
    var otp: String?
}

struct PasswordChangeBody: APIBody {
    static let fields = ["currentPassword", "newPassword"]
    static let required = fields
    var currentPassword: String
    var newPassword: String
}

struct TOTPBody: APIBody {
    static let fields = ["otp"]
    var otp: String?
    func validate() throws { try Validate.text(otp, field: "otp", max: 20) }
}

struct TOTPDisableBody: APIBody {
    static let fields = ["password"]
    static let required = fields
    var password: String
}

struct TokenBody: APIBody {
    static let fields = ["name", "expiresAt"]
    static let required = ["name"]
    var name: String
    var expiresAt: Date?
    func validate() throws { try Validate.name(name, field: "name") }
}

struct TokenView: Codable, Sendable {
    var id: String
    var name: String
    var kind: String
    var createdAt: Date
    var expiresAt: Date?
    var revokedAt: Date?
}

extension Routes {
    func identity(_ t: RouteTable) {
        t.add(.post, "/auth/login", "Log in; returns a session token", body: LoginBody.self, response: .object(LoginAnswer.self),
            authenticated: false) { req, ctx in
            let body = try await req.decodeStrict(LoginBody.self, limit: custody.config.maxBodyBytes)
            try Validate.text(body.username, field: "username", max: 200)
            try Validate.text(body.otp, field: "otp", max: 20)
            let r = try await custody.identity.login(username: body.username, password: Secret(body.password), otp: body.otp, ip: ctx.remoteIP)
            return try Reply.json(LoginAnswer(token: r.token, expiresAt: r.expiresAt, mustChangePassword: r.mustChangePassword))
        }
        t.add(.post, "/auth/logout", "End this session (revokes the token used)", response: .empty) { _, ctx in
            try await custody.identity.logout(try ctx.caller(), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.post, "/auth/password", "Change your own password", body: PasswordChangeBody.self, response: .empty) { req, ctx in
            let body = try await req.decodeStrict(PasswordChangeBody.self, limit: custody.config.maxBodyBytes)
            try await custody.identity.changeOwnPassword(try ctx.caller(), current: Secret(body.currentPassword),
                new: Secret(body.newPassword), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/auth/me", "Who am I", response: .object(MeView.self)) { _, ctx in
            let p = try ctx.caller()
            let totp = try await custody.identity.totpEnabled(p.userID)
            return try Reply.json(MeView(id: p.userID, username: p.username, role: p.role, superAdmin: p.superAdmin,
                mustChangePassword: p.mustChangePassword, totp: totp))
        }
        t.add(.post, "/tokens", "Create an API token (shown once)", body: TokenBody.self, response: .object(NewTokenView.self)) { req, ctx in
            let p = try ctx.caller()
            let body = try await req.decodeStrict(TokenBody.self, limit: custody.config.maxBodyBytes)
            let new = try await custody.identity.createToken(p, name: body.name, expiresAt: body.expiresAt, ip: ctx.remoteIP)
            return try Reply.json(NewTokenView(id: new.record.id, name: new.record.name, token: new.token, expiresAt: new.record.expiresAt), status: .created)
        }
        t.add(.get, "/tokens", "List your API tokens (never the token itself)", response: .object([TokenView].self)) { _, ctx in
            let p = try ctx.caller()
            let rows = try await custody.identity.apiTokens(p)
            return try Reply.json(rows.map { TokenView(id: $0.id, name: $0.name, kind: $0.kind.rawValue, createdAt: $0.createdAt,
                expiresAt: $0.expiresAt, revokedAt: $0.revokedAt) })
        }
        t.add(.delete, "/tokens/:tid", "Revoke a token (yours; administrators: anyone's)", response: .empty) { _, ctx in
            let p = try ctx.caller()
            try await custody.identity.revokeToken(try ctx.param("tid"), by: p, ip: ctx.remoteIP)
            return Reply.noContent()
        }
    }
}

/// `POST /auth/login`'s answer.
struct LoginAnswer: Codable { let token: String; let expiresAt: Date; let mustChangePassword: Bool }

/// `GET /auth/me`: who the token belongs to.
struct MeView: Codable { let id, username: String; let role: Role; let superAdmin, mustChangePassword, totp: Bool }

/// `POST /tokens`: the token, shown this once.
struct NewTokenView: Codable { let id, name, token: String; let expiresAt: Date? }
