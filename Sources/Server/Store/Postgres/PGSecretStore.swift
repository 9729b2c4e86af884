import Foundation
import Shared

/// `SecretStore` on PostgreSQL: sealed passwords per account, one `current`, then `history` newest
/// first, pruned to a depth; pending ones written ahead of any change on a target.
struct PGSecretStore: Sendable {
    let vault: Vault
    let historyDepth: Int

    func setCurrent(_ secret: Secret, account: String, by user: String, at date: Date, keep: Int = 0, ip: String? = nil, _ c: PGConnection)
        async throws
    {
        try await c.execute("UPDATE secrets SET state = 'history' WHERE accountId = ? AND state = 'current'", [account])
        let id = newID()
        let sealed = try vault.seal(secret, identity: Vault.secretIdentity(secretID: id, accountID: account))
        try await c.execute("INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy, ip) VALUES (?, ?, 'current', ?, ?, ?, ?)",
            [id, account, sealed, date, user, ip.pgValue])
        try await prune(account, keep: keep, c)
    }

    /// Write-ahead: the new password, sealed, before anything touches the target.
    func writePending(_ secret: Secret, id: String, account: String, by user: String, at date: Date, task: String, _ c: PGConnection)
        async throws
    {
        let sealed = try vault.seal(secret, identity: Vault.secretIdentity(secretID: id, accountID: account))
        try await c.execute("INSERT INTO secrets(id, accountId, state, sealed, createdAt, createdBy, taskId) VALUES (?, ?, 'pending', ?, ?, ?, ?)",
            [id, account, sealed, date, user, task])
    }

    func pending(id: String, account: String, _ c: PGConnection) async throws -> Secret? {
        guard let sealed = try await c.scalar(Data.self, "SELECT sealed FROM secrets WHERE id = ? AND accountId = ? AND state = 'pending'", [id, account])
        else { return nil }
        return try vault.openSecret(sealed, identity: Vault.secretIdentity(secretID: id, accountID: account))
    }

    /// The pending password becomes current; the old one goes to history.
    func promotePending(id: String, account: String, keep: Int, _ c: PGConnection) async throws {
        // The pending one must exist before the current one steps down: never leave an account without a password.
        guard try await c.scalar(Int.self, "SELECT COUNT(*) FROM secrets WHERE id = ? AND accountId = ? AND state = 'pending'", [id, account]) == 1
        else { throw VaultError.missingPending }
        try await c.execute("UPDATE secrets SET state = 'history' WHERE accountId = ? AND state = 'current'", [account])
        try await c.execute("UPDATE secrets SET state = 'current' WHERE id = ? AND state = 'pending'", [id])
        try await prune(account, keep: keep, c)
    }

    private func prune(_ account: String, keep: Int, _ c: PGConnection) async throws {
        try await c.execute("""
            DELETE FROM secrets WHERE accountId = ? AND state = 'history' AND id NOT IN
              (SELECT id FROM secrets WHERE accountId = ? AND state = 'history' ORDER BY createdAt DESC, seq DESC LIMIT ?)
            """, [account, account, max(historyDepth, keep)])
    }

    func discardPending(id: String, _ c: PGConnection) async throws {
        try await c.execute("DELETE FROM secrets WHERE id = ? AND state = 'pending'", [id])
    }

    func current(account: String, _ c: PGConnection) async throws -> Secret? {
        guard let row = try await c.row("SELECT id, sealed FROM secrets WHERE accountId = ? AND state = 'current'", [account]) else { return nil }
        return try vault.openSecret(try row["sealed"], identity: Vault.secretIdentity(secretID: try row["id"], accountID: account))
    }

    /// The current password and up to `depth` earlier ones, newest first.
    func recent(account: String, depth: Int, _ c: PGConnection) async throws -> [Secret] {
        try await c.rows("""
            SELECT id, sealed FROM secrets WHERE accountId = ? AND state IN ('current', 'history')
            ORDER BY state = 'current' DESC, createdAt DESC, seq DESC LIMIT ?
            """, [account, depth + 1]).map {
            try vault.openSecret(try $0["sealed"], identity: Vault.secretIdentity(secretID: try $0["id"], accountID: account))
        }
    }

    /// The account's candidates, newest first, but for those of resets that have not touched the target yet.
    func candidates(account: String, _ c: PGConnection) async throws -> [SecretStore.Candidate] {
        try await c.rows("""
            SELECT s.id, s.sealed, s.createdAt, s.createdBy, t.id AS taskId, t.state AS taskState
            FROM secrets s LEFT JOIN tasks t ON t.pendingSecretId = s.id
            WHERE s.accountId = ? AND s.state = 'pending' AND (t.id IS NULL OR t.phase != 'queued')
            ORDER BY s.createdAt DESC, s.seq DESC
            """, [account]).map { row in
            let id: String = try row["id"]
            let state: String? = try row["taskState"]
            return SecretStore.Candidate(id: id, secret: try vault.openSecret(try row["sealed"], identity: Vault.secretIdentity(secretID: id, accountID: account)),
                createdAt: try row["createdAt"], createdBy: try row["createdBy"], taskId: try row["taskId"],
                active: ["queued", "running", "unknown"].contains(state ?? ""))
        }
    }

    func historyCount(account: String, _ c: PGConnection) async throws -> Int {
        try await c.scalar(Int.self, "SELECT COUNT(*) FROM secrets WHERE accountId = ? AND state = 'history'", [account]) ?? 0
    }
}
