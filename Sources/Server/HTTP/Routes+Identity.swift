import Foundation
import GRDB
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
        t.add(.post, "/auth/login", "Log in; returns a session token", body: LoginBody.self, authenticated: false) { req, ctx in
            let body = try await req.decodeStrict(LoginBody.self, limit: custody.config.maxBodyBytes)
            try Validate.text(body.username, field: "username", max: 200)
            try Validate.text(body.otp, field: "otp", max: 20)
            let r = try await custody.login(username: body.username, password: Secret(body.password), otp: body.otp, ip: ctx.remoteIP)
            struct Out: Encodable { let token: String; let expiresAt: Date; let mustChangePassword: Bool }
            return try Reply.json(Out(token: r.token, expiresAt: r.expiresAt, mustChangePassword: r.mustChangePassword))
        }
        t.add(.post, "/auth/logout", "End this session (revokes the token used)") { _, ctx in
            let p = try ctx.caller()
            try await custody.store.write { [now = custody.now] db in
                try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE id = ?", arguments: [now().seconds, p.tokenID])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "logout"), in: db)
            }
            return Reply.noContent()
        }
        t.add(.post, "/auth/password", "Change your own password", body: PasswordChangeBody.self) { req, ctx in
            let body = try await req.decodeStrict(PasswordChangeBody.self, limit: custody.config.maxBodyBytes)
            try await custody.changeOwnPassword(try ctx.caller(), current: Secret(body.currentPassword),
                new: Secret(body.newPassword), ip: ctx.remoteIP)
            return Reply.noContent()
        }
        t.add(.get, "/auth/me", "Who am I") { _, ctx in
            let p = try ctx.caller()
            struct Out: Encodable { let id, username, role: String; let superAdmin, mustChangePassword, totp: Bool }
            let totp = try await custody.store.read { db in try custody.totpEnabled(p.userID, db) }
            return try Reply.json(Out(id: p.userID, username: p.username, role: p.role.rawValue, superAdmin: p.superAdmin,
                mustChangePassword: p.mustChangePassword, totp: totp))
        }
        t.add(.post, "/tokens", "Create an API token (shown once)", body: TokenBody.self) { req, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .createToken)
            let body = try await req.decodeStrict(TokenBody.self, limit: custody.config.maxBodyBytes)
            if let e = body.expiresAt, e <= custody.now() {
                throw APIError.badRequest("invalid_field", "field 'expiresAt' must be in the future")
            }
            let token = Tokens.generate()
            let record = TokenRecord(id: newID(), userId: p.userID, name: body.name, kind: .api, hash: Tokens.hash(token),
                createdAt: custody.now(), expiresAt: body.expiresAt, revokedAt: nil)
            try await custody.store.write { db in
                try record.insert(db)
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "create_token",
                    message: "token \(record.id) '\(body.name)'"), in: db)
            }
            struct Out: Encodable { let id, name, token: String; let expiresAt: Date? }
            return try Reply.json(Out(id: record.id, name: record.name, token: token, expiresAt: record.expiresAt), status: .created)
        }
        t.add(.get, "/tokens", "List your API tokens (never the token itself)") { _, ctx in
            let p = try ctx.caller()
            let rows = try await custody.store.read { db in
                try TokenRecord.filter(Column("userId") == p.userID && Column("kind") == "api").order(Column("createdAt")).fetchAll(db)
            }
            return try Reply.json(rows.map { TokenView(id: $0.id, name: $0.name, kind: $0.kind.rawValue, createdAt: $0.createdAt,
                expiresAt: $0.expiresAt, revokedAt: $0.revokedAt) })
        }
        t.add(.delete, "/tokens/:tid", "Revoke a token (yours; administrators: anyone's)") { _, ctx in
            let p = try ctx.caller()
            try custody.authorizer.check(p, .revokeToken)
            let tid = try ctx.param("tid")
            try await custody.store.write { [now = custody.now] db in
                guard let t = try TokenRecord.fetchOne(db, key: tid), t.userId == p.userID || p.role == .administrator else {
                    throw APIError.notFound("token")
                }
                try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [now().seconds, tid])
                try AuditLog.append(AuditEvent(user: p.username, ip: ctx.remoteIP, operation: "revoke_token", message: "token \(tid)"), in: db)
            }
            return Reply.noContent()
        }
    }
}
