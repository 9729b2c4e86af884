import Foundation
import GRDB
import Shared

/// The second factor: TOTP secrets sealed in the vault per user. Set up by the user (a secret,
/// then a code from the app turns it on), checked at every login, turned off by the user with
/// their password or reset by an administrator. Every step is audited.
extension Custody {
    static func totpIdentity(_ userID: String) -> String { "totp:" + userID }

    /// Whether the user signs in with a code.
    func totpEnabled(_ userID: String, _ db: Database) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT enabled FROM totp WHERE userId = ?", arguments: [userID]) ?? false
    }

    /// After a right password: nothing without 2FA; else the code must match (and not be reused).
    /// A missing code is 401 `otp_required`; a wrong one counts as a failed login.
    func checkSecondFactor(_ user: UserRecord, otp: String?, ip: String) async throws {
        let at = now()
        let outcome = try await store.write { db -> String in
            guard let row = try Row.fetchOne(db, sql: "SELECT sealed, lastStep FROM totp WHERE userId = ? AND enabled = 1", arguments: [user.id])
            else { return "off" }
            guard let otp, !otp.isEmpty else { return "required" }
            let secret = try self.vault.open(row["sealed"], identity: Self.totpIdentity(user.id))
            guard let step = TOTP.verify(otp, secret, at: at, after: row["lastStep"]) else { return "wrong" }
            try db.execute(sql: "UPDATE totp SET lastStep = ? WHERE userId = ?", arguments: [step, user.id])
            return "ok"
        }
        switch outcome {
        case "required": throw APIError(.unauthorized, "otp_required", "enter the code from your authenticator app (field otp)")
        case "wrong":
            throw APIError(.unauthorized, "invalid_otp", "the one-time code is wrong or was used already")
        default: return
        }
    }

    /// Starts (or restarts) setting up 2FA: a new secret, not yet required at login.
    func startTOTP(_ p: Principal, ip: String) async throws -> Data {
        let secret = TOTP.newSecret()
        let sealed = try vault.seal(secret, identity: Self.totpIdentity(p.userID))
        try await store.write { db in
            if try self.totpEnabled(p.userID, db) { throw APIError.conflict("two-factor sign-in is on already; turn it off first") }
            try db.execute(sql: """
                INSERT INTO totp(userId, sealed, enabled, lastStep, createdAt) VALUES (?, ?, 0, 0, ?)
                ON CONFLICT(userId) DO UPDATE SET sealed = excluded.sealed, enabled = 0, lastStep = 0, createdAt = excluded.createdAt
                """, arguments: [p.userID, sealed, self.now().seconds])
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "totp_setup", message: "a new secret, not yet on"), in: db)
        }
        return secret
    }

    /// Turns 2FA on once the app shows a right code for the pending secret.
    func confirmTOTP(_ p: Principal, otp: String, ip: String) async throws {
        let at = now()
        try await store.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT sealed, enabled FROM totp WHERE userId = ?", arguments: [p.userID]) else {
                throw APIError.badRequest("totp_not_started", "start with POST /auth/totp (no otp) to get a secret")
            }
            if row["enabled"] as Bool { throw APIError.conflict("two-factor sign-in is on already") }
            let secret = try self.vault.open(row["sealed"], identity: Self.totpIdentity(p.userID))
            guard let step = TOTP.verify(otp, secret, at: at, after: 0) else {
                throw APIError.badRequest("invalid_otp", "the code does not match; check the app's clock and the secret")
            }
            try db.execute(sql: "UPDATE totp SET enabled = 1, lastStep = ? WHERE userId = ?", arguments: [step, p.userID])
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "totp_enabled"), in: db)
        }
    }

    /// Turns 2FA off: the user with their password, or an administrator for another user (`by`).
    func disableTOTP(userID: String, username: String, by p: Principal, ip: String) async throws {
        try await store.write { db in
            try db.execute(sql: "DELETE FROM totp WHERE userId = ?", arguments: [userID])
            try AuditLog.append(AuditEvent(user: p.username, ip: ip, operation: "totp_disabled",
                message: p.userID == userID ? nil : "for \(username)"), in: db)
        }
    }
}
