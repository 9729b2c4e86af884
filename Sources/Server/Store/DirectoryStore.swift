import Foundation
import Shared

/// The directory sign-in settings (the bind password sealed in the vault) and the users made by
/// signing in with the directory. Each change is one transaction with its audit record.
protocol DirectoryStore: Sendable {
    /// nil when no directory is configured.
    func directory() async throws -> StoredDirectory?
    /// Replaces the settings. A given bind password is sealed; a stored one is dropped when the URL
    /// or bind DN changes. nil removes the settings (directory users can no longer sign in).
    /// `owner`: the user id the directory sync acts as (the super-administrator saving). A changed
    /// `directorySync` starts its schedule afresh from `at` (the first run is the next `dailyAt`);
    /// a changed user attribute or users' scope also forgets which users the sync made (a new
    /// baseline: nobody is disabled for having been outside it).
    func saveDirectory(_ body: DirectorySettingsBody?, owner: String?, at: Date, audit: AuditEvent) async throws
    /// The directory user `username`, made or given `role` (and `email`); a local user of that name
    /// is a conflict, and so is a disabled one unless `enable` (an import found it again).
    /// Audited when made, enabled, or when its role changes.
    /// `actor` is who the audit names: the user signing in, or the administrator importing.
    func signIn(directoryUser username: String, role: Role, email: String?, enable: Bool, at: Date, actor: String, ip: String) async throws
        -> UserRecord
    /// Who the sync acts as, and when it last started.
    func syncState() async throws -> DirectorySyncState
    /// Records a sync's start at `at` when `due` says so, in one transaction (one node runs each).
    func claimSync(at: Date, due: @Sendable (DirectorySyncState) -> Bool) async throws -> Bool
    /// The groups an import made (`users`: user groups; `resources`: resource groups), by id, with
    /// the directory group or OU (DN) each mirrors.
    func importedGroups(_ kind: DirectoryRecords.GroupKind) async throws -> [String: String]
    /// Records what an import made (id or name → DN).
    func markImported(_ kind: DirectoryRecords.GroupKind, _ entries: [String: String]) async throws
    /// Forgets what a sync found gone (reported once).
    func forgetImported(_ kind: DirectoryRecords.GroupKind, _ keys: [String]) async throws
}

extension DirectoryStore {
    func markImported(_ kind: DirectoryRecords.GroupKind, groupID: String, dn: String) async throws {
        try await markImported(kind, [groupID: dn])
    }
}

/// The directory sync's owner (a user id) and last start.
struct DirectorySyncState: Sendable, Equatable {
    var owner: String?
    var lastRunAt: Date?
}

/// What both stores share: the keys of the settings and the sealed password, and the audit rows.
enum DirectoryRecords {
    static let settingsKey = "directory.settings"
    static let passwordKey = "directoryBindPassword"
    static let passwordIdentity = "custody.directory.bind-password.v1"
    /// `accounts`: the domain accounts an import added (id → DN), `people` the directory users a
    /// sync made (id → DN), `computers` the resources an import made (id → DN), so a sync knows
    /// which are its own.
    enum GroupKind: String, Sendable { case users, resources, accounts, people, computers }
    static let syncOwnerKey = "directory.sync.owner"
    static let syncLastRunKey = "directory.sync.lastRunAt"

    static func importedGroupsKey(_ kind: GroupKind) -> String { "directory.imported.\(kind.rawValue)" }

    /// What a save does to the sync's state: restart its schedule, and (a new users' scope or
    /// user attribute) have the next sync take a new baseline.
    static func syncChanges(_ previous: DirectorySettingsBody?, _ body: DirectorySettingsBody?) -> (restart: Bool, rebaseline: Bool) {
        func scope(_ b: DirectorySettingsBody?) -> Set<String> {
            let u = b?.directorySync?.users
            return Set(((u?.groups ?? []).map { "g:" + $0 } + (u?.bases ?? []).map { "b:" + $0 }).map { $0.lowercased().replacingOccurrences(of: ", ", with: ",") })
        }
        let restart = previous?.directorySync != body?.directorySync
        let rebaseline = scope(previous) != scope(body)
            || (previous?.userAttribute ?? "sAMAccountName").lowercased() != (body?.userAttribute ?? "sAMAccountName").lowercased()
        return (restart, rebaseline)
    }

    /// In the people map: the next sync keeps only the users it still finds, and disables nobody.
    static let rebaselineKey = "!rebaseline"

    static func decodeDate(_ value: String?) -> Date? { value.flatMap(Double.init).map { Date(timeIntervalSince1970: $0) } }

    static func decodeGroups(_ json: String?) -> [String: String] {
        json.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
    }

    static func encodeGroups(_ groups: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(groups), as: UTF8.self)
    }

    /// The directory user as it is to be saved: made, or given the role (never super-administrator)
    /// and email the directory says now.
    static func directoryUser(_ before: UserRecord?, username: String, role: Role, email: String?, enable: Bool, at: Date) throws -> UserRecord {
        if let before, !before.isDirectoryUser { throw StoreError(code: .conflict, message: "a local user named '\(username)' exists") }
        if let before, before.isDisabled, !enable {
            throw StoreError(code: .conflict, message: "the user is disabled in Custody (a directory sync no longer found it); an import that finds it enables it")
        }
        var user = before ?? UserRecord(id: newID(), username: username, passwordHash: UserRecord.directoryMarker, role: role, superAdmin: false,
            email: email, mustChangePassword: false, createdAt: at)
        user.passwordHash = UserRecord.directoryMarker
        user.role = role
        user.superAdmin = false
        user.email = email ?? user.email
        return user
    }

    /// The audit rows of a sign-in that made or changed a directory user.
    static func signInAudit(_ before: UserRecord?, _ after: UserRecord, actor: String, ip: String) -> [AuditEvent] {
        if before == nil {
            return [AuditEvent(user: actor, ip: ip, operation: "directory_user_created",
                message: "user \(after.username), role \(after.role.rawValue) from the directory")]
        }
        var events: [AuditEvent] = []
        if before?.isDisabled == true {
            events.append(AuditEvent(user: actor, ip: ip, operation: "directory_user_enabled", message: "user \(after.username): found by an import again"))
        }
        guard before?.role != after.role else { return events }
        return events + [AuditEvent(user: actor, ip: ip, operation: "directory_role_changed",
            message: "user \(after.username): \(before?.role.rawValue ?? "") → \(after.role.rawValue) from the directory's groups")]
    }

    /// Whether a stored bind password still belongs with `body` (same URL and bind DN).
    static func keepsPassword(_ previous: DirectorySettingsBody?, _ body: DirectorySettingsBody) -> Bool {
        previous?.url.lowercased() == body.url.lowercased() && previous?.bindDN.lowercased() == body.bindDN.lowercased()
    }
}
