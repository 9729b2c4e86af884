import Foundation
import GRDB
import Shared

/// Sealed passwords per account: one `current`, then `history` newest first, pruned to a depth.
struct SecretStore: Sendable {
    let vault: Vault
    let historyDepth: Int

    func setCurrent(_ secret: Secret, account: String, by user: String, at date: Date, keep: Int = 0, ip: String? = nil, _ db: Database) throws {
        try db.execute(sql: "UPDATE secrets SET state = 'history' WHERE accountId = ? AND state = 'current'", arguments: [account])
        let id = newID()
        let sealed = try vault.seal(secret, identity: Vault.secretIdentity(secretID: id, accountID: account))
        try db.execute(sql: "INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy, ip) VALUES (?, ?, 'current', ?, ?, ?, ?)",
            arguments: [id, account, sealed, date.seconds, user, ip])
        try db.execute(sql: """
            DELETE FROM secrets WHERE accountId = ? AND state = 'history' AND id NOT IN
              (SELECT id FROM secrets WHERE accountId = ? AND state = 'history' ORDER BY createdAt DESC, rowid DESC LIMIT ?)
            """, arguments: [account, account, max(historyDepth, keep)])
    }

    /// Write-ahead: the new password, sealed, before anything touches the target.
    func writePending(_ secret: Secret, id: String, account: String, by user: String, at date: Date, task: String, _ db: Database) throws {
        let sealed = try vault.seal(secret, identity: Vault.secretIdentity(secretID: id, accountID: account))
        try db.execute(sql: "INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy, taskId) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
            arguments: [id, account, sealed, date.seconds, user, task])
    }

    func pending(id: String, account: String, _ db: Database) throws -> Secret? {
        guard let sealed = try Data.fetchOne(db, sql: "SELECT sealed FROM secrets WHERE id = ? AND accountId = ? AND state = 'pending'",
            arguments: [id, account]) else { return nil }
        return try vault.openSecret(sealed, identity: Vault.secretIdentity(secretID: id, accountID: account))
    }

    /// The pending password becomes current; the old one goes to history.
    func promotePending(id: String, account: String, keep: Int, _ db: Database) throws {
        // The pending one must exist before the current one steps down: never leave an account without a password.
        guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets WHERE id = ? AND accountId = ? AND state = 'pending'",
            arguments: [id, account]) == 1
        else { throw VaultError.missingPending }
        try db.execute(sql: "UPDATE secrets SET state = 'history' WHERE accountId = ? AND state = 'current'", arguments: [account])
        try db.execute(sql: "UPDATE secrets SET state = 'current' WHERE id = ? AND state = 'pending'", arguments: [id])
        try db.execute(sql: """
            DELETE FROM secrets WHERE accountId = ? AND state = 'history' AND id NOT IN
              (SELECT id FROM secrets WHERE accountId = ? AND state = 'history' ORDER BY createdAt DESC, rowid DESC LIMIT ?)
            """, arguments: [account, account, max(historyDepth, keep)])
    }

    func discardPending(id: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM secrets WHERE id = ? AND state = 'pending'", arguments: [id])
    }

    func current(account: String, _ db: Database) throws -> Secret? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, sealed FROM secrets WHERE accountId = ? AND state = 'current'"),
            arguments: [account])
        else { return nil }
        return try vault.openSecret(row["sealed"], identity: Vault.secretIdentity(secretID: row["id"], accountID: account))
    }

    /// The current password and up to `depth` earlier ones, newest first.
    func recent(account: String, depth: Int, _ db: Database) throws -> [Secret] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT id, sealed FROM secrets WHERE accountId = ? AND state IN ('current', 'history')
            ORDER BY state = 'current' DESC, createdAt DESC, rowid DESC LIMIT ?
            """, arguments: [account, depth + 1])
        return try rows.map { try vault.openSecret($0["sealed"], identity: Vault.secretIdentity(secretID: $0["id"], accountID: account)) }
    }

    /// A pending password a reset may have set on the target, retrievable until a verify settles it.
    struct Candidate: Sendable {
        let id: String
        let secret: Secret
        let createdAt: Date
        let createdBy: String
        let taskId: String?
        /// The reset that wrote it is still queued, running or reconciling.
        let active: Bool
    }

    /// The account's candidates, newest first, but for those of resets that have not touched the target yet.
    func candidates(account: String, _ db: Database) throws -> [Candidate] {
        let rows = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT s.id, s.sealed, s.createdAt, s.createdBy, t.id AS taskId, t.state AS taskState, t.phase AS taskPhase
            FROM secrets s LEFT JOIN tasks t ON t.pendingSecretId = s.id
            WHERE s.accountId = ? AND s.state = 'pending' AND (t.id IS NULL OR t.phase != 'queued')
            ORDER BY s.createdAt DESC, s.rowid DESC
            """), arguments: [account])
        return try rows.map { row in
            let state: String? = row["taskState"]
            return Candidate(id: row["id"], secret: try vault.openSecret(row["sealed"], identity: Vault.secretIdentity(secretID: row["id"], accountID: account)),
                createdAt: Date(timeIntervalSince1970: row["createdAt"]), createdBy: row["createdBy"], taskId: row["taskId"],
                active: ["queued", "running", "unknown"].contains(state ?? ""))
        }
    }

    func historyCount(account: String, _ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM secrets WHERE accountId = ? AND state = 'history'", arguments: [account]) ?? 0
    }
}
