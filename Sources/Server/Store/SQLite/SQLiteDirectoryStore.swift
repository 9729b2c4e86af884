import Foundation
import GRDB
import Shared

/// `DirectoryStore` on SQLite: the settings in `settings`, the bind password sealed in `vaultMeta`.
struct SQLiteDirectoryStore: DirectoryStore {
    typealias R = DirectoryRecords
    let db: DatabasePool
    let vault: Vault

    func directory() async throws -> StoredDirectory? {
        try await db.read { [vault] db in
            guard let json = try Settings.get(R.settingsKey, db), let body = try? JSONDecoder.api.decode(DirectorySettingsBody.self, from: Data(json.utf8))
            else { return nil }
            let sealed = try Data.fetchOne(db, sql: "SELECT value FROM vaultMeta WHERE key = ?", arguments: [R.passwordKey])
            return StoredDirectory(body: body, bindPassword: try sealed.map { try vault.openSecret($0, identity: R.passwordIdentity) })
        }
    }

    func saveDirectory(_ body: DirectorySettingsBody?, owner: String?, at: Date, audit: AuditEvent) async throws {
        try await db.write { [vault] db in
            let previous = try Settings.get(R.settingsKey, db).flatMap { try? JSONDecoder.api.decode(DirectorySettingsBody.self, from: Data($0.utf8)) }
            if var stored = body {
                stored.bindPassword = nil
                try Settings.set(R.settingsKey, String(decoding: try JSONEncoder.api.encode(stored), as: UTF8.self), db)
            } else {
                try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [R.settingsKey])
            }
            if let password = body?.bindPassword {
                try db.execute(sql: "INSERT INTO vaultMeta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    arguments: [R.passwordKey, try vault.seal(password, identity: R.passwordIdentity)])
            } else if body.map({ !R.keepsPassword(previous, $0) }) ?? true {
                try db.execute(sql: "DELETE FROM vaultMeta WHERE key = ?", arguments: [R.passwordKey])
            }
            if let owner { try Settings.set(R.syncOwnerKey, owner, db) } else { try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [R.syncOwnerKey]) }
            let (restart, rebaseline) = R.syncChanges(previous, body)
            if restart { try Settings.set(R.syncLastRunKey, String(at.timeIntervalSince1970), db) }
            if rebaseline {
                var people = R.decodeGroups(try Settings.get(R.importedGroupsKey(.people), db))
                people[R.rebaselineKey] = ""
                try Settings.set(R.importedGroupsKey(.people), try R.encodeGroups(people), db)
            }
            try AuditLog.append(audit, in: db)
        }
    }

    func syncState() async throws -> DirectorySyncState {
        try await db.read { db in try Self.syncState(db) }
    }

    static func syncState(_ db: Database) throws -> DirectorySyncState {
        DirectorySyncState(owner: try Settings.get(R.syncOwnerKey, db), lastRunAt: R.decodeDate(try Settings.get(R.syncLastRunKey, db)))
    }

    func claimSync(at: Date, due: @Sendable (DirectorySyncState) -> Bool) async throws -> Bool {
        try await db.write { db in
            guard due(try Self.syncState(db)) else { return false }
            try Settings.set(R.syncLastRunKey, String(at.timeIntervalSince1970), db)
            return true
        }
    }

    func importedGroups(_ kind: R.GroupKind) async throws -> [String: String] {
        try await db.read { db in R.decodeGroups(try Settings.get(R.importedGroupsKey(kind), db)) }
    }

    func forgetImported(_ kind: R.GroupKind, _ keys: [String]) async throws {
        try await db.write { db in
            var groups = R.decodeGroups(try Settings.get(R.importedGroupsKey(kind), db))
            for k in keys { groups[k] = nil }
            try Settings.set(R.importedGroupsKey(kind), try R.encodeGroups(groups), db)
        }
    }

    func markImported(_ kind: R.GroupKind, _ entries: [String: String]) async throws {
        try await db.write { db in
            var groups = R.decodeGroups(try Settings.get(R.importedGroupsKey(kind), db))
            groups.merge(entries) { $1 }
            try Settings.set(R.importedGroupsKey(kind), try R.encodeGroups(groups), db)
        }
    }

    func signIn(directoryUser username: String, role: Role, email: String?, enable: Bool, at: Date, actor: String, ip: String) async throws
        -> UserRecord
    {
        try await db.write { db in
            let before = try UserRecord.filter(Column("username") == username).fetchOne(db)
            let user = try R.directoryUser(before, username: username, role: role, email: email, enable: enable, at: at)
            try user.save(db)
            for event in R.signInAudit(before, user, actor: actor, ip: ip) { try AuditLog.append(event, in: db) }
            return user
        }
    }
}
