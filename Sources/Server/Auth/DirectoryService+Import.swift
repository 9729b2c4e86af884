import Foundation
import ResetPlugins
import Shared

extension DirectoryService {
    /// People become directory users with the role their mapped groups give (none: skipped, as are
    /// disabled accounts, unacceptable names and names of local users); a directory user skipped so
    /// loses its sessions and tokens. Groups become user groups of those users; a user group of the
    /// same name that no import made is left alone. Each step is its own transaction: a failure is
    /// reported and the rest goes on; the summary is audited whatever happens.
    func importUsers(_ b: DirectoryImportUsersBody, removals: Bool = false, by p: Principal, ip: String) async throws -> DirectoryImportReport {
        try authorizer.check(p, .createUser)
        guard p.superAdmin else { throw DomainError.forbidden("only a super-administrator imports directory users (their groups can make administrators)") }
        try b.validate()
        guard let stored = try await store.directory() else { return DirectoryImportReport(ok: false, error: "no directory is configured") }
        let base = stored.body.baseDN.lowercased()
        for dn in (b.groups ?? []) + (b.bases ?? []) where !dn.lowercased().hasSuffix(base) {
            throw DomainError.invalid("invalid_field", "\(dn) is not under the directory's baseDN \(stored.body.baseDN)")
        }
        let read: DirectoryLogin.People
        do {
            read = try await DirectoryLogin(try config(stored)).people(inGroups: unique(b.groups ?? []), under: unique(b.bases ?? []),
                mapped: stored.body.roleMappings.map(\.group))
        } catch let f as DirectoryLogin.Failure { return DirectoryImportReport(ok: false, error: f.message) }
        var report = DirectoryImportReport()
        var imported: Set<String> = []
        // By user id: the users found (imported or skipped), and those this sync made.
        var seen: Set<String> = []
        var made: [String: String] = [:]
        for dn in read.unnamed.prefix(100) { report.skipped.append(.init(name: dn, reason: "has no \(stored.body.userAttribute ?? "sAMAccountName")")) }
        do {
            for person in read.people {
                guard let (id, created) = try await importPerson(person, stored.body, &report, &imported, by: p, ip: ip) else { continue }
                seen.insert(id)
                if created { made[id] = person.dn }
                // Only what a sync made is a sync's to disable later: a one-off import's users, and
                // those who signed in by themselves, are not. Recorded as it goes, so a crash loses little.
                if removals && made.count >= 100 { try await store.markImported(.people, made); made = [:] }
            }
            if removals { try await store.markImported(.people, made); made = [:] }
            let groups = try await userGroups.groups(memberOf: nil)
            var mine = try await store.importedGroups(.users)
            for g in read.groups { try await importGroup(g, members: g.members.filter { imported.contains($0.lowercased()) }, groups, &mine, &report, by: p, ip: ip) }
            if removals { try await removeGone(seen, unnamed: read.unnamed.count, stored.body, &report, by: p, ip: ip) }
        } catch {
            (report.ok, report.error) = (false, "the import stopped: \(error)")
            if removals, !made.isEmpty { try? await store.markImported(.people, made) }
        }
        try await summarize("directory_import_users", ok: report.ok, error: report.error, by: p, ip: ip,
            "\(report.created.count) created, \(report.updated.count) updated, \(report.unchanged.count) unchanged, \(report.skipped.count) skipped, "
                + "\(report.userGroups.count) user group(s)" + (report.disabled.isEmpty ? "" : ", \(report.disabled.count) disabled"))
        return report
    }

    /// An import's one summary row, written whatever happened.
    func summarize(_ operation: String, ok: Bool, error: String?, by p: Principal, ip: String, _ counts: String) async throws {
        try await audit.append(AuditEvent(user: p.username, ip: ip, operation: operation, outcome: ok ? "success" : "failure",
            message: counts + (error.map { "; \($0)" } ?? "")))
    }

    private func unique(_ dns: [String]) -> [String] {
        var seen: Set<String> = []
        return dns.filter { seen.insert($0.lowercased()).inserted }
    }

    /// Imports one person: the user's id and whether it was made now, or nil when skipped (a
    /// skipped directory user the directory no longer lets in is disabled, and its id returned).
    private func importPerson(_ person: DirectoryLogin.Person, _ settings: DirectorySettingsBody, _ report: inout DirectoryImportReport,
        _ imported: inout Set<String>, by p: Principal, ip: String) async throws -> (String, Bool)?
    {
        let key = person.name.lowercased()
        guard !imported.contains(key), !report.skipped.contains(where: { $0.name.lowercased() == key }) else {
            report.skipped.append(.init(name: person.name, reason: "another directory entry (\(person.dn)) has the same name"))
            return nil
        }
        guard (try? Validate.name(person.name, field: "username", max: 100)) != nil else {
            report.skipped.append(.init(name: String(person.name.prefix(100)), reason: "not an acceptable user name"))
            return nil
        }
        let before = try await userStore.user(named: person.name)
        if let before, !before.isDirectoryUser {
            report.skipped.append(.init(name: person.name, reason: "a local user has this name"))
            return nil
        }
        let role = settings.role(for: person.groups)
        guard !person.disabled, let role else {
            let reason = person.disabled ? "disabled in the directory" : "in none of the mapped directory groups"
            let disabling = before.map { !$0.isDisabled } ?? false
            report.skipped.append(.init(name: person.name, reason: reason + (disabling ? "; disabled in Custody, its sessions and tokens are ended" : "")))
            if let before, disabling, try await disable(before, because: reason, by: p, ip: ip) {
                report.disabled.append(before.username)
            }
            return before.map { ($0.id, false) }
        }
        let email = person.email.flatMap { (try? Validate.text($0, field: "email", max: 254)) != nil ? $0 : nil }
        let user: UserRecord
        do {
            user = try await store.signIn(directoryUser: person.name, role: role, email: email, enable: true, at: now(), actor: p.username, ip: ip)
        } catch let e as StoreError {
            report.skipped.append(.init(name: person.name, reason: e.message))
            return nil
        }
        imported.insert(key)
        if before == nil { report.created.append(person.name) } else if before?.role != role { report.updated.append(person.name) } else {
            report.unchanged.append(person.name)
        }
        return (user.id, before == nil)
    }

    /// A sync's removals: the users it made that it no longer found are disabled; not when entries
    /// could not be named, and not on the first run after the scope or user attribute changed
    /// (which keeps only the users it still finds).
    private func removeGone(_ seen: Set<String>, unnamed: Int, _ settings: DirectorySettingsBody, _ report: inout DirectoryImportReport,
        by p: Principal, ip: String) async throws
    {
        let mine = try await store.importedGroups(.people)
        if mine[DirectoryRecords.rebaselineKey] != nil {
            try await store.forgetImported(.people, mine.keys.filter { !seen.contains($0) })
            report.removalsSkipped = "the sync's users or user attribute changed: this run took a new baseline and disabled nobody"
            return
        }
        guard unnamed == 0 else {
            report.removalsSkipped = "\(unnamed) entries have no \(settings.userAttribute ?? "sAMAccountName"): nobody is disabled for being gone"
            return
        }
        for id in mine.keys.sorted() where !seen.contains(id) {
            guard let u = try await users.user(id: id), u.isDirectoryUser, !u.isDisabled else { continue }
            if try await disable(u, because: "no longer in the directory groups or bases the sync imports", by: p, ip: ip) {
                report.disabled.append(u.username)
            }
        }
    }

    /// A directory user the directory no longer gives: disabled (it cannot sign in until an import
    /// finds it again), its sessions and tokens ended now. False when it was already disabled.
    @discardableResult
    private func disable(_ u: UserRecord, because reason: String, by p: Principal, ip: String) async throws -> Bool {
        do { try await disableNow(u, because: reason, by: p, ip: ip) } catch let e as StoreError where e.code == .conflict { return false }
        return true
    }

    private func disableNow(_ u: UserRecord, because reason: String, by p: Principal, ip: String) async throws {
        _ = try await users.update(u.id, at: now()) { stored in
            guard stored.isDirectoryUser, !stored.isDisabled else { throw StoreError(code: .conflict, message: "\(stored.username) is no directory user to disable") }
            var user = stored
            user.passwordHash = UserRecord.directoryDisabledMarker
            return UserChange(user: user, endSessions: true, audit: AuditEvent(user: p.username, ip: ip, operation: "directory_user_disabled",
                message: "user \(stored.username): \(reason); disabled, sessions and tokens ended"))
        }
    }

    private func importGroup(_ g: DirectoryLogin.Group, members: [String], _ groups: [UserGroup], _ mine: inout [String: String],
        _ report: inout DirectoryImportReport, by p: Principal, ip: String) async throws
    {
        guard (try? Validate.name(g.name, field: "name")) != nil else {
            report.skipped.append(.init(name: String(g.name.prefix(100)), reason: "not an acceptable user group name"))
            return
        }
        let event = AuditEvent(user: p.username, ip: ip, operation: "directory_import_group", message: "user group \(g.name) from \(g.dn): \(members.count) member(s)")
        do {
            if let group = groups.first(where: { $0.name.lowercased() == g.name.lowercased() }) {
                guard mine[group.id] != nil else {
                    report.skipped.append(.init(name: g.name, reason: "a user group of this name exists that no import made; it is left alone"))
                    return
                }
                _ = try await userGroups.setMembers(group.id, members, audit: event)
                report.userGroups.append(.init(name: group.name, members: members, created: false))
            } else {
                let id = newID()
                try await userGroups.create(id: id, name: g.name, members: members, audit: event)
                try await store.markImported(.users, groupID: id, dn: g.dn)
                mine[id] = g.dn
                report.userGroups.append(.init(name: g.name, members: members, created: true))
            }
        } catch let e as StoreError {
            report.skipped.append(.init(name: g.name, reason: e.message))
        }
    }
}
