import Foundation
import Shared

/// The directory sign-in settings (the bind password sealed in the vault) and the users made by
/// signing in with the directory. Each change is one transaction with its audit record.
protocol DirectoryStore: Sendable {
    /// nil when no directory is configured.
    func directory() async throws -> StoredDirectory?
    /// Replaces the settings. A given bind password is sealed; a stored one is dropped when the URL
    /// or bind DN changes. nil removes the settings (directory users can no longer sign in).
    func saveDirectory(_ body: DirectorySettingsBody?, audit: AuditEvent) async throws
    /// The directory user `username`, made or given `role` (and `email`); a local user of that name
    /// is a conflict. Audited when made or when its role changes.
    /// `actor` is who the audit names: the user signing in, or the administrator importing.
    func signIn(directoryUser username: String, role: Role, email: String?, at: Date, actor: String, ip: String) async throws -> UserRecord
    /// The groups an import made (`users`: user groups; `resources`: resource groups), by id, with
    /// the directory group or OU (DN) each mirrors.
    func importedGroups(_ kind: DirectoryRecords.GroupKind) async throws -> [String: String]
    /// Records that an import made `groupID` from `dn`.
    func markImported(_ kind: DirectoryRecords.GroupKind, groupID: String, dn: String) async throws
}

/// What both stores share: the keys of the settings and the sealed password, and the audit rows.
enum DirectoryRecords {
    static let settingsKey = "directory.settings"
    static let passwordKey = "directoryBindPassword"
    static let passwordIdentity = "custody.directory.bind-password.v1"
    enum GroupKind: String, Sendable { case users, resources }

    static func importedGroupsKey(_ kind: GroupKind) -> String { "directory.imported.\(kind.rawValue)" }

    static func decodeGroups(_ json: String?) -> [String: String] {
        json.flatMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) } ?? [:]
    }

    static func encodeGroups(_ groups: [String: String]) throws -> String {
        String(decoding: try JSONEncoder().encode(groups), as: UTF8.self)
    }

    /// The directory user as it is to be saved: made, or given the role (never super-administrator)
    /// and email the directory says now.
    static func directoryUser(_ before: UserRecord?, username: String, role: Role, email: String?, at: Date) -> UserRecord {
        var user = before ?? UserRecord(id: newID(), username: username, passwordHash: UserRecord.directoryMarker, role: role, superAdmin: false,
            email: email, mustChangePassword: false, createdAt: at)
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
        guard before?.role != after.role else { return [] }
        return [AuditEvent(user: actor, ip: ip, operation: "directory_role_changed",
            message: "user \(after.username): \(before?.role.rawValue ?? "") → \(after.role.rawValue) from the directory's groups")]
    }

    /// Whether a stored bind password still belongs with `body` (same URL and bind DN).
    static func keepsPassword(_ previous: DirectorySettingsBody?, _ body: DirectorySettingsBody) -> Bool {
        previous?.url.lowercased() == body.url.lowercased() && previous?.bindDN.lowercased() == body.bindDN.lowercased()
    }
}
