import Foundation
import GRDB

/// `IdentityStore` on SQLite: tables `users`, `tokens`, `loginFailures`, `totp`, and the audit
/// trail's sign-ins. Token times are REAL seconds (migration v16 converted older text dates).
struct SQLiteIdentityStore: IdentityStore {
    let db: DatabasePool
    let tokens: ObservedCache<TokenRecord.WithUser>

    func userCount() async throws -> Int { try await db.read { db in try UserRecord.fetchCount(db) } }

    func user(id: String) async throws -> UserRecord? { try await db.read { db in try UserRecord.fetchOne(db, key: id) } }

    func user(named username: String) async throws -> UserRecord? {
        try await db.read { db in try UserRecord.filter(Column("username") == username).fetchOne(db) }
    }

    func addFirstUser(_ user: UserRecord, audit: AuditEvent) async throws -> Bool {
        try await db.write { db in
            guard try UserRecord.fetchCount(db) == 0 else { return false }
            try user.insert(db)
            try AuditLog.append(audit, in: db)
            return true
        }
    }

    func setOwnPassword(userID: String, hash: String, keeping tokenID: String, at: Date, audit: AuditEvent) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE users SET passwordHash = ?, mustChangePassword = 0 WHERE id = ?", arguments: [hash, userID])
            try db.execute(sql: """
                UPDATE tokens SET revokedAt = ? WHERE userId = ? AND kind IN ('session', 'web') AND id != ? AND revokedAt IS NULL
                """, arguments: [at.seconds, userID, tokenID])
            try AuditLog.append(audit, in: db)
        }
    }

    func addToken(_ token: TokenRecord, audit: AuditEvent?) async throws {
        try await db.write { db in
            try Self.insert(token, db)
            if let audit { try AuditLog.append(audit, in: db) }
        }
    }

    func openSession(_ token: TokenRecord, clearing failures: LoginAttempt, audit: AuditEvent) async throws {
        try await db.write { db in
            try Self.insert(token, db)
            try db.execute(sql: "DELETE FROM loginFailures WHERE username = ? AND address = ?", arguments: [failures.name, failures.address])
            try AuditLog.append(audit, in: db)
        }
    }

    func token(id: String) async throws -> TokenRecord? {
        try await db.read { db in try Row.fetchOne(db, sql: "SELECT * FROM tokens WHERE id = ?", arguments: [id]).map(Self.token) }
    }

    func token(hash: String) async throws -> (TokenRecord, UserRecord)? {
        // Every request asks: most answers come from memory (`TokenCache`).
        if let known = tokens.get(hash) { return (known.token, known.user) }
        let generation = tokens.generation
        let found = try await db.read { db -> (TokenRecord, UserRecord)? in
            // Every request asks: the statements are prepared once per connection.
            guard let t = try Row.fetchOne(try db.cachedStatement(sql: "SELECT * FROM tokens WHERE hash = ?"), arguments: [hash]).map(Self.token),
                let u = try UserRecord.fetchOne(try db.cachedStatement(sql: "SELECT * FROM users WHERE id = ?"), arguments: [t.userId])
            else { return nil }
            return (t, u)
        }
        if let (t, u) = found { tokens.put(hash, TokenRecord.WithUser(token: t, user: u), generation: generation) }
        return found
    }

    func apiTokens(userID: String) async throws -> [TokenRecord] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tokens WHERE userId = ? AND kind = 'api' ORDER BY createdAt, id", arguments: [userID])
                .map(Self.token)
        }
    }

    func revoke(tokenID: String, at: Date, audit: AuditEvent?) async throws -> Bool {
        try await db.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM tokens WHERE id = ?)", arguments: [tokenID]) == true else { return false }
            try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [at.seconds, tokenID])
            let changed = db.changesCount > 0
            if let audit { try AuditLog.append(audit, in: db) }
            return changed
        }
    }

    func replaceSession(_ old: String, with new: TokenRecord, at: Date) async throws {
        try await db.write { db in
            try db.execute(sql: "UPDATE tokens SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [at.seconds, old])
            try Self.insert(new, db)
        }
    }

    func touch(tokenID: String, at: Date) async throws {
        try await db.write { db in try db.execute(sql: "UPDATE tokens SET lastUsedAt = ? WHERE id = ?", arguments: [at.seconds, tokenID]) }
    }

    func recordFailure(_ failure: LoginAttempt, pruneBefore: Date, audit: [AuditEvent]) async throws {
        try await db.write { db in
            try db.execute(sql: "DELETE FROM loginFailures WHERE at < ?", arguments: [pruneBefore.seconds])
            try db.execute(sql: "INSERT INTO loginFailures(username, address, at) VALUES (?, ?, ?)",
                arguments: [failure.name, failure.address, failure.at.seconds])
            for event in audit { try AuditLog.append(event, in: db) }
        }
    }

    func failures(since: Date) async throws -> [LoginAttempt] {
        try await db.read { db in
            try Row.fetchAll(db, sql: "SELECT username, address, at FROM loginFailures WHERE at >= ? ORDER BY at", arguments: [since.seconds])
                .map { LoginAttempt(name: $0["username"], address: $0["address"], at: Date(timeIntervalSince1970: $0["at"])) }
        }
    }

    func signIns(since: Date, limit: Int) async throws -> [LoginAttempt] {
        try await db.read { db in
            try Row.fetchAll(db, sql: """
                SELECT user, ip, MAX(at) AS at FROM audit WHERE operation = 'login' AND outcome = 'success' AND at >= ?
                GROUP BY user, ip ORDER BY at DESC LIMIT ?
                """, arguments: [since.seconds, limit])
                .map { LoginAttempt(name: $0["user"], address: $0["ip"], at: Date(timeIntervalSince1970: $0["at"])) }
        }
    }

    func totp(userID: String) async throws -> TOTPState? {
        try await db.read { db in
            try Row.fetchOne(db, sql: "SELECT sealed, enabled, lastStep FROM totp WHERE userId = ?", arguments: [userID])
                .map { TOTPState(sealed: $0["sealed"], enabled: $0["enabled"], lastStep: $0["lastStep"]) }
        }
    }

    func startTOTP(userID: String, sealed: Data, at: Date, audit: AuditEvent) async throws {
        try await db.write { db in
            if try Bool.fetchOne(db, sql: "SELECT enabled FROM totp WHERE userId = ?", arguments: [userID]) == true {
                throw DomainError.conflict("two-factor sign-in is on already; turn it off first")
            }
            try db.execute(sql: """
                INSERT INTO totp(userId, sealed, enabled, lastStep, createdAt) VALUES (?, ?, 0, 0, ?)
                ON CONFLICT(userId) DO UPDATE SET sealed = excluded.sealed, enabled = 0, lastStep = 0, createdAt = excluded.createdAt
                """, arguments: [userID, sealed, at.seconds])
            try AuditLog.append(audit, in: db)
        }
    }

    func enableTOTP(userID: String, sealed: Data, step: Int64, audit: AuditEvent) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "UPDATE totp SET enabled = 1, lastStep = ? WHERE userId = ? AND enabled = 0 AND sealed = ?",
                arguments: [step, userID, sealed])
            guard db.changesCount > 0 else { return false }
            try AuditLog.append(audit, in: db)
            return true
        }
    }

    func useTOTPStep(userID: String, sealed: Data, step: Int64) async throws -> Bool {
        try await db.write { db in
            try db.execute(sql: "UPDATE totp SET lastStep = ? WHERE userId = ? AND enabled = 1 AND sealed = ? AND lastStep < ?",
                arguments: [step, userID, sealed, step])
            return db.changesCount > 0
        }
    }

    func deleteTOTP(userID: String, resetBy: String?, check: @Sendable (UserRecord) throws -> Void, audit: AuditEvent) async throws -> Bool {
        try await db.write { db in
            guard let user = try UserRecord.fetchOne(db, key: userID) else { return false }
            try check(user)
            try db.execute(sql: "DELETE FROM totp WHERE userId = ?", arguments: [userID])
            if let resetBy { try db.execute(sql: "UPDATE users SET credentialsResetById = ? WHERE id = ?", arguments: [resetBy, userID]) }
            try AuditLog.append(audit, in: db)
            return true
        }
    }

    func tokenOwner(id: String) async throws -> String? {
        try await db.read { db in try String.fetchOne(db, sql: "SELECT userId FROM tokens WHERE id = ?", arguments: [id]) }
    }

    private static func insert(_ t: TokenRecord, _ db: Database) throws {
        try db.execute(sql: """
            INSERT INTO tokens(id, userId, name, kind, hash, createdAt, expiresAt, revokedAt, lastUsedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [t.id, t.userId, t.name, t.kind.rawValue, t.hash, t.createdAt.seconds, t.expiresAt?.seconds, t.revokedAt?.seconds,
                t.lastUsedAt?.seconds])
    }

    private static func token(_ row: Row) throws -> TokenRecord {
        // Seconds as written here; a date as text (GRDB's format, from before v16) is read too. A value
        // that is neither is corrupt: never read as "not revoked" or "never expires".
        func date(_ column: String) throws -> Date? {
            let value = row[column] as DatabaseValue
            if value.isNull { return nil }
            guard let d = Date.fromDatabaseValue(value) else { throw StoreError(code: .corruptValue, message: "tokens.\(column) is not a time") }
            return d
        }
        return TokenRecord(id: row["id"], userId: row["userId"], name: row["name"], kind: try StoreError.decode(TokenRecord.Kind.self, row["kind"]),
            hash: row["hash"], createdAt: try date("createdAt") ?? Date(timeIntervalSince1970: 0), expiresAt: try date("expiresAt"),
            revokedAt: try date("revokedAt"), lastUsedAt: try date("lastUsedAt"))
    }
}
