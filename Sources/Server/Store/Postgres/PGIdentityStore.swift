import Foundation

/// `IdentityStore` on PostgreSQL. Sessions and API tokens live in the shared database, so a token
/// issued by one node is accepted by every node, and survives any node's restart.
struct PGIdentityStore: IdentityStore {
    let db: PGDatabase
    let log: PGAuditLog

    func userCount() async throws -> Int { try await db.read { c in try await c.scalar(Int.self, "SELECT COUNT(*) FROM users") ?? 0 } }

    func user(id: String) async throws -> UserRecord? {
        try await db.read { c in try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [id]) }
    }

    func user(named username: String) async throws -> UserRecord? {
        try await db.read { c in try await PGCatalog.user(named: username, c) }
    }

    func addFirstUser(_ user: UserRecord, audit: AuditEvent) async throws -> Bool {
        try await db.write { c in
            guard try await c.scalar(Int.self, "SELECT COUNT(*) FROM users") == 0 else { return false }
            try await c.insert(user, into: "users")
            try await log.append(audit, c)
            return true
        }
    }

    func setOwnPassword(userID: String, hash: String, keeping tokenID: String, at: Date, audit: AuditEvent) async throws {
        try await db.write { c in
            try await c.execute("UPDATE users SET passwordHash = ?, mustChangePassword = 0 WHERE id = ?", [hash, userID])
            try await c.execute("""
                UPDATE tokens SET revokedAt = ? WHERE userId = ? AND kind IN ('session', 'web') AND id != ? AND revokedAt IS NULL
                """, [at, userID, tokenID])
            try await log.append(audit, c)
        }
    }

    func addToken(_ token: TokenRecord, audit: AuditEvent?) async throws {
        try await db.write { c in
            try await c.insert(token, into: "tokens")
            if let audit { try await log.append(audit, c) }
        }
    }

    func openSession(_ token: TokenRecord, clearing failures: LoginAttempt, audit: AuditEvent) async throws {
        try await db.write { c in
            try await c.insert(token, into: "tokens")
            try await c.execute("DELETE FROM loginFailures WHERE username = ? AND address = ?", [failures.name, failures.address])
            try await log.append(audit, c)
        }
    }

    func token(id: String) async throws -> TokenRecord? {
        try await db.read { c in try await c.one(TokenRecord.self, "SELECT * FROM tokens WHERE id = ?", [id]) }
    }

    func token(hash: String) async throws -> (TokenRecord, UserRecord)? {
        try await db.read { c in
            guard let t = try await c.one(TokenRecord.self, "SELECT * FROM tokens WHERE hash = ?", [hash]),
                let u = try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [t.userId])
            else { return nil }
            return (t, u)
        }
    }

    func apiTokens(userID: String) async throws -> [TokenRecord] {
        try await db.read { c in
            try await c.all(TokenRecord.self, "SELECT * FROM tokens WHERE userId = ? AND kind = 'api' ORDER BY createdAt, id", [userID])
        }
    }

    func revoke(tokenID: String, at: Date, audit: AuditEvent?) async throws -> Bool {
        try await db.write { c in
            guard try await c.scalar(Int.self, "SELECT 1 FROM tokens WHERE id = ?", [tokenID]) != nil else { return false }
            let changed = try await c.rows("UPDATE tokens SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL RETURNING 1", [at, tokenID]).count > 0
            if let audit { try await log.append(audit, c) }
            return changed
        }
    }

    func replaceSession(_ old: String, with new: TokenRecord, at: Date) async throws {
        try await db.write { c in
            try await c.execute("UPDATE tokens SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", [at, old])
            try await c.insert(new, into: "tokens")
        }
    }

    func touch(tokenID: String, at: Date) async throws {
        try await db.write { c in try await c.execute("UPDATE tokens SET lastUsedAt = ? WHERE id = ?", [at, tokenID]) }
    }

    func recordFailure(_ failure: LoginAttempt, pruneBefore: Date, audit: [AuditEvent]) async throws {
        try await db.write { c in
            try await c.execute("DELETE FROM loginFailures WHERE at < ?", [pruneBefore])
            try await c.execute("INSERT INTO loginFailures(username, address, at) VALUES (?, ?, ?)", [failure.name, failure.address, failure.at])
            for event in audit { try await log.append(event, c) }
        }
    }

    func failures(since: Date) async throws -> [LoginAttempt] {
        try await db.read { c in
            try await c.rows("SELECT username, address, at FROM loginFailures WHERE at >= ? ORDER BY at", [since]).map {
                LoginAttempt(name: try $0["username"], address: try $0["address"], at: try $0["at"])
            }
        }
    }

    func signIns(since: Date, limit: Int) async throws -> [LoginAttempt] {
        try await db.read { c in
            try await c.rows("""
                SELECT "user", ip, MAX(at) AS at FROM audit WHERE operation = 'login' AND outcome = 'success' AND at >= ?
                GROUP BY "user", ip ORDER BY at DESC LIMIT ?
                """, [since, limit]).map { LoginAttempt(name: try $0["user"], address: try $0["ip"], at: try $0["at"]) }
        }
    }

    func totp(userID: String) async throws -> TOTPState? {
        try await db.read { c in
            try await c.row("SELECT sealed, enabled, lastStep FROM totp WHERE userId = ?", [userID]).map {
                TOTPState(sealed: try $0["sealed"], enabled: try $0["enabled"], lastStep: try $0["lastStep"])
            }
        }
    }

    func startTOTP(userID: String, sealed: Data, at: Date, audit: AuditEvent) async throws {
        try await db.write { c in
            if try await c.scalar(Bool.self, "SELECT enabled FROM totp WHERE userId = ?", [userID]) == true {
                throw DomainError.conflict("two-factor sign-in is on already; turn it off first")
            }
            try await c.execute("""
                INSERT INTO totp(userId, sealed, enabled, lastStep, createdAt) VALUES (?, ?, 0, 0, ?)
                ON CONFLICT (userId) DO UPDATE SET sealed = excluded.sealed, enabled = 0, lastStep = 0, createdAt = excluded.createdAt
                """, [userID, sealed, at])
            try await log.append(audit, c)
        }
    }

    func enableTOTP(userID: String, sealed: Data, step: Int64, audit: AuditEvent) async throws -> Bool {
        try await db.write { c in
            let changed = try await c.rows("UPDATE totp SET enabled = 1, lastStep = ? WHERE userId = ? AND enabled = 0 AND sealed = ? RETURNING 1",
                [step, userID, sealed]).count > 0
            guard changed else { return false }
            try await log.append(audit, c)
            return true
        }
    }

    func useTOTPStep(userID: String, sealed: Data, step: Int64) async throws -> Bool {
        try await db.write { c in
            try await c.rows("UPDATE totp SET lastStep = ? WHERE userId = ? AND enabled = 1 AND sealed = ? AND lastStep < ? RETURNING 1",
                [step, userID, sealed, step]).count > 0
        }
    }

    func deleteTOTP(userID: String, resetBy: String?, check: @Sendable (UserRecord) throws -> Void, audit: AuditEvent) async throws -> Bool {
        try await db.write { c in
            guard let user = try await c.one(UserRecord.self, "SELECT * FROM users WHERE id = ?", [userID]) else { return false }
            try check(user)
            try await c.execute("DELETE FROM totp WHERE userId = ?", [userID])
            if let resetBy { try await c.execute("UPDATE users SET credentialsResetById = ? WHERE id = ?", [resetBy, userID]) }
            try await log.append(audit, c)
            return true
        }
    }

    func tokenOwner(id: String) async throws -> String? {
        try await db.read { c in try await c.scalar(String.self, "SELECT userId FROM tokens WHERE id = ?", [id]) }
    }
}
