import Foundation
import ResetPlugins
import Shared

/// The body of `POST /directory/import/users`: the groups (their members, nested ones included)
/// and the bases (OUs) whose people become Custody users; each group also becomes a user group.
struct DirectoryImportUsersBody: Codable, Sendable, APIBody {
    var groups: [String]?
    var bases: [String]?

    static let fields = ["groups", "bases"]

    func validate() throws {
        let all = (groups ?? []) + (bases ?? [])
        guard !all.isEmpty else { throw DomainError.invalid("missing_field", "give groups or bases (distinguished names)") }
        guard all.count <= 100 else { throw DomainError.invalid("invalid_field", "at most 100 groups and bases") }
        for dn in all where !dn.contains("=") || dn.count > 1024 || dn.contains("\0") {
            throw DomainError.invalid("invalid_field", "groups and bases are distinguished names (CN=Staff,OU=Groups,DC=example,DC=com)")
        }
    }
}

/// What an import did. `ok` false: the directory could not be read (`error` says why); nothing changed.
struct DirectoryImportReport: Codable, Sendable {
    struct Skipped: Codable, Sendable { var name: String; var reason: String }
    struct ImportedGroup: Codable, Sendable { var name: String; var members: [String]; var created: Bool }

    var ok = true
    var error: String?
    var created: [String] = []
    var updated: [String] = []
    var unchanged: [String] = []
    var skipped: [Skipped] = []
    var userGroups: [ImportedGroup] = []
}

extension DirectoryService {
    /// People become directory users with the role their mapped groups give (none: skipped, as are
    /// disabled accounts and names of local users); groups become user groups of those users.
    func importUsers(_ b: DirectoryImportUsersBody, by p: Principal, ip: String) async throws -> DirectoryImportReport {
        try authorizer.check(p, .createUser)
        guard p.superAdmin else { throw DomainError.forbidden("only a super-administrator imports directory users (their groups can make administrators)") }
        try b.validate()
        guard let stored = try await store.directory() else { return DirectoryImportReport(ok: false, error: "no directory is configured") }
        let read: DirectoryLogin.People
        do {
            read = try await DirectoryLogin(try config(stored)).people(inGroups: b.groups ?? [], under: b.bases ?? [],
                mapped: stored.body.roleMappings.map(\.group))
        } catch let f as DirectoryLogin.Failure { return DirectoryImportReport(ok: false, error: f.message) }
        var report = DirectoryImportReport()
        var users: Set<String> = []
        for person in read.people {
            guard !person.disabled else {
                report.skipped.append(.init(name: person.name, reason: "disabled in the directory"))
                continue
            }
            guard let role = stored.body.role(for: person.groups) else {
                report.skipped.append(.init(name: person.name, reason: "in none of the mapped directory groups"))
                continue
            }
            let before = try await userStore.user(named: person.name)
            if let before, !before.isDirectoryUser {
                report.skipped.append(.init(name: person.name, reason: "a local user has this name"))
                continue
            }
            _ = try await store.signIn(directoryUser: person.name, role: role, email: person.email, at: now(), actor: p.username, ip: ip)
            users.insert(person.name.lowercased())
            if before == nil { report.created.append(person.name) } else if before?.role != role { report.updated.append(person.name) } else {
                report.unchanged.append(person.name)
            }
        }
        let existing = try await userGroups.groups(memberOf: nil)
        for g in read.groups {
            let members = g.members.filter { users.contains($0.lowercased()) }
            let event = AuditEvent(user: p.username, ip: ip, operation: "directory_import_group", message: "user group \(g.name) from \(g.dn): \(members.count) member(s)")
            if let group = existing.first(where: { $0.name.caseInsensitiveCompare(g.name) == .orderedSame }) {
                _ = try await userGroups.setMembers(group.id, members, audit: event)
                report.userGroups.append(.init(name: group.name, members: members, created: false))
            } else {
                try await userGroups.create(id: newID(), name: g.name, members: members, audit: event)
                report.userGroups.append(.init(name: g.name, members: members, created: true))
            }
        }
        try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "directory_import_users",
            message: "\(report.created.count) created, \(report.updated.count) updated, \(report.unchanged.count) unchanged, \(report.skipped.count) skipped, "
                + "\(report.userGroups.count) user group(s)"))
        return report
    }
}
