import Foundation
import Shared

/// `DirectoryStore` on PostgreSQL: the settings in `settings`, the bind password sealed in `vaultMeta`.
struct PGDirectoryStore: DirectoryStore {
    typealias R = DirectoryRecords
    let db: PGDatabase
    let log: PGAuditLog
    let vault: Vault

    static func body(_ c: PGConnection) async throws -> DirectorySettingsBody? {
        try await PGCatalog.setting(R.settingsKey, c).flatMap { try? JSONDecoder.api.decode(DirectorySettingsBody.self, from: Data($0.utf8)) }
    }

    func directory() async throws -> StoredDirectory? {
        try await db.read { [vault] c in
            guard let body = try await Self.body(c) else { return nil }
            let sealed = try await c.scalar(Data.self, "SELECT value FROM vaultMeta WHERE key = ?", [R.passwordKey])
            return StoredDirectory(body: body, bindPassword: try sealed.map { try vault.openSecret($0, identity: R.passwordIdentity) })
        }
    }

    func saveDirectory(_ body: DirectorySettingsBody?, owner: String?, at: Date, audit: AuditEvent) async throws {
        try await db.write { [vault] c in
            let previous = try await Self.body(c)
            if var stored = body {
                stored.bindPassword = nil
                try await PGCatalog.set(R.settingsKey, String(decoding: try JSONEncoder.api.encode(stored), as: UTF8.self), c)
            } else {
                try await c.execute("DELETE FROM settings WHERE key = ?", [R.settingsKey])
            }
            if let password = body?.bindPassword {
                try await c.execute("INSERT INTO vaultMeta(key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [R.passwordKey, try vault.seal(password, identity: R.passwordIdentity)])
            } else if body.map({ !R.keepsPassword(previous, $0) }) ?? true {
                try await c.execute("DELETE FROM vaultMeta WHERE key = ?", [R.passwordKey])
            }
            if let owner { try await PGCatalog.set(R.syncOwnerKey, owner, c) } else { try await c.execute("DELETE FROM settings WHERE key = ?", [R.syncOwnerKey]) }
            let (restart, rebaseline) = R.syncChanges(previous, body)
            if restart { try await PGCatalog.set(R.syncLastRunKey, String(at.timeIntervalSince1970), c) }
            if rebaseline {
                var people = R.decodeGroups(try await PGCatalog.setting(R.importedGroupsKey(.people), c))
                people[R.rebaselineKey] = ""
                try await PGCatalog.set(R.importedGroupsKey(.people), try R.encodeGroups(people), c)
            }
            try await log.append(audit, c)
        }
    }

    func syncState() async throws -> DirectorySyncState {
        try await db.read { c in try await Self.syncState(c) }
    }

    static func syncState(_ c: PGConnection) async throws -> DirectorySyncState {
        DirectorySyncState(owner: try await PGCatalog.setting(R.syncOwnerKey, c), lastRunAt: R.decodeDate(try await PGCatalog.setting(R.syncLastRunKey, c)))
    }

    func claimSync(at: Date, due: @Sendable (DirectorySyncState) -> Bool) async throws -> Bool {
        try await db.write { c in
            guard due(try await Self.syncState(c)) else { return false }
            try await PGCatalog.set(R.syncLastRunKey, String(at.timeIntervalSince1970), c)
            return true
        }
    }

    func importedGroups(_ kind: R.GroupKind) async throws -> [String: String] {
        try await db.read { c in R.decodeGroups(try await PGCatalog.setting(R.importedGroupsKey(kind), c)) }
    }

    func forgetImported(_ kind: R.GroupKind, _ keys: [String]) async throws {
        try await db.write { c in
            var groups = R.decodeGroups(try await PGCatalog.setting(R.importedGroupsKey(kind), c))
            for k in keys { groups[k] = nil }
            try await PGCatalog.set(R.importedGroupsKey(kind), try R.encodeGroups(groups), c)
        }
    }

    func markImported(_ kind: R.GroupKind, _ entries: [String: String]) async throws {
        try await db.write { c in
            var groups = R.decodeGroups(try await PGCatalog.setting(R.importedGroupsKey(kind), c))
            groups.merge(entries) { $1 }
            try await PGCatalog.set(R.importedGroupsKey(kind), try R.encodeGroups(groups), c)
        }
    }

    func signIn(directoryUser username: String, role: Role, email: String?, enable: Bool, at: Date, actor: String, ip: String) async throws
        -> UserRecord
    {
        try await db.write { c in
            let before = try await PGCatalog.user(named: username, c)
            let user = try R.directoryUser(before, username: username, role: role, email: email, enable: enable, at: at)
            if before == nil { try await c.insert(user, into: "users") } else { try await c.update(user, in: "users") }
            for event in R.signInAudit(before, user, actor: actor, ip: ip) { try await log.append(event, c) }
            return user
        }
    }
}
