import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `DirectoryStore` must do: the bind password kept sealed, only with its URL
/// and bind DN; directory users made, given the directory's role, and never mixed with a local user.
@Suite struct DirectoryStoreConformance {
    static let saved = AuditEvent(user: "root", ip: "t", operation: "save_settings")

    static func body(url: String = "ldaps://dc1.example.test", password: String?) -> DirectorySettingsBody {
        DirectorySettingsBody(url: url, caFile: nil, caPEM: nil, bindDN: "svc@example.test", bindPassword: password.map(Secret.init),
            baseDN: "DC=example,DC=test", userAttribute: nil, roleMappings: [.init(group: "CN=Staff,DC=example,DC=test", role: .passwordUser)])
    }

    @Test(arguments: StoreBackend.names("directory"))
    func theBindPasswordStaysWithItsURLAndBindDN(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        #expect(try await b.directory.directory() == nil)
        try await b.directory.saveDirectory(Self.body(password: "Svc-Pass-1!"), owner: nil, at: Date(), audit: Self.saved)
        var d = try #require(try await b.directory.directory())
        #expect(d.bindPassword?.reveal() == "Svc-Pass-1!" && d.body.bindPassword == nil && d.body.roleMappings.count == 1)
        try await b.directory.saveDirectory(Self.body(password: nil), owner: nil, at: Date(), audit: Self.saved)
        #expect(try await b.directory.directory()?.bindPassword?.reveal() == "Svc-Pass-1!", "kept when left out")
        try await b.directory.saveDirectory(Self.body(url: "ldaps://dc2.example.test", password: nil), owner: nil, at: Date(), audit: Self.saved)
        d = try #require(try await b.directory.directory())
        #expect(d.body.url == "ldaps://dc2.example.test" && d.bindPassword == nil, "never follows a new URL")
        try await b.directory.saveDirectory(nil, owner: nil, at: Date(), audit: Self.saved)
        #expect(try await b.directory.directory() == nil)
        #expect(try await b.auditOperations().filter { $0 == "save_settings" }.count == 4)
    }

    @Test(arguments: StoreBackend.names("directory"))
    func directoryUsersAreMadeAndTakeTheDirectorysRole(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let at = Date(timeIntervalSince1970: 1_800_000_000)
        let made = try await b.directory.signIn(directoryUser: "ana", role: .passwordUser, email: "ana@example.test", enable: false, at: at, actor: "ana", ip: "10.0.0.1")
        #expect(made.isDirectoryUser && made.role == .passwordUser && !made.superAdmin && made.email == "ana@example.test")
        let again = try await b.directory.signIn(directoryUser: "ana", role: .passwordUser, email: nil, enable: false, at: at, actor: "ana", ip: "10.0.0.1")
        #expect(again.id == made.id && again.email == "ana@example.test")
        let promoted = try await b.directory.signIn(directoryUser: "ana", role: .administrator, email: nil, enable: false, at: at, actor: "ana", ip: "10.0.0.1")
        #expect(promoted.id == made.id && promoted.role == .administrator)
        #expect(try await b.identities.user(named: "ana")?.role == .administrator)
        #expect(try await b.auditOperations().filter { $0.hasPrefix("directory_") } == ["directory_user_created", "directory_role_changed"])
        try await b.addUser(newID(), "local-bob")
        await #expect(throws: StoreError.self) {
            _ = try await b.directory.signIn(directoryUser: "local-bob", role: .administrator, email: nil, enable: false, at: at, actor: "ana", ip: "10.0.0.1")
        }
        #expect(try await b.identities.user(named: "local-bob")?.role == .passwordUser, "a local user is never taken over")
        // Disabled (by a sync): refused at sign-in; an import (enable) takes it back, audited.
        _ = try await b.users.update(made.id, at: at) { u in
            var d = u
            d.passwordHash = UserRecord.directoryDisabledMarker
            return UserChange(user: d, endSessions: true, audit: AuditEvent(user: "root", ip: "t", operation: "directory_user_disabled"))
        }
        await #expect(throws: StoreError.self) {
            _ = try await b.directory.signIn(directoryUser: "ana", role: .administrator, email: nil, enable: false, at: at, actor: "ana", ip: "10.0.0.1")
        }
        let back = try await b.directory.signIn(directoryUser: "ana", role: .administrator, email: nil, enable: true, at: at, actor: "root", ip: "t")
        #expect(back.id == made.id && back.isDirectoryUser && !back.isDisabled)
        #expect(try await b.auditOperations().last == "directory_user_enabled")
    }

    @Test(arguments: StoreBackend.names("directory"))
    func aSyncIsClaimedOncePerDueTimeAndActsAsItsOwner(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        #expect(try await b.directory.syncState() == DirectorySyncState())
        try await b.directory.saveDirectory(Self.body(password: "Svc-Pass-1!"), owner: "u1", at: Date(timeIntervalSince1970: 1_799_000_000), audit: Self.saved)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await b.directory.claimSync(at: t0) { $0.lastRunAt == nil })
        let twice = try await b.directory.claimSync(at: t0.addingTimeInterval(60)) { $0.lastRunAt == nil }
        #expect(!twice, "claimed once")
        #expect(try await b.directory.syncState() == DirectorySyncState(owner: "u1", lastRunAt: t0))
        try await b.directory.saveDirectory(Self.body(password: nil), owner: nil, at: Date(), audit: Self.saved)
        #expect(try await b.directory.syncState().owner == nil, "saved without a sync: no owner")
        // A sync saved starts its schedule at the save; changing its users' scope forgets the users it made.
        var synced = Self.body(password: nil)
        synced.directorySync = DirectorySync(dailyAt: "02:00", users: DirectoryImportUsersBody(groups: ["CN=Staff,DC=example,DC=test"]))
        let saved = Date(timeIntervalSince1970: 1_801_000_000)
        try await b.directory.saveDirectory(synced, owner: "u1", at: saved, audit: Self.saved)
        #expect(try await b.directory.syncState() == DirectorySyncState(owner: "u1", lastRunAt: saved))
        try await b.directory.markImported(.people, ["id1": "CN=a,DC=example,DC=test"])
        try await b.directory.saveDirectory(synced, owner: "u1", at: saved.addingTimeInterval(60), audit: Self.saved)
        #expect(try await b.directory.syncState().lastRunAt == saved, "unchanged: the schedule goes on")
        #expect(try await b.directory.importedGroups(.people).keys.sorted() == [DirectoryRecords.rebaselineKey, "id1"], "a first sync takes a baseline")
        synced.directorySync?.users = DirectoryImportUsersBody(groups: ["CN=Ops,DC=example,DC=test"])
        try await b.directory.saveDirectory(synced, owner: "u1", at: saved.addingTimeInterval(120), audit: Self.saved)
        #expect(try await b.directory.syncState().lastRunAt == saved.addingTimeInterval(120))
        #expect(try await b.directory.importedGroups(.people) == ["id1": "CN=a,DC=example,DC=test", DirectoryRecords.rebaselineKey: ""],
            "a new scope: the next sync takes a new baseline")
    }

    @Test(arguments: StoreBackend.names("directory"))
    func theUserGroupsAnImportMadeAreRemembered(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        #expect(try await b.directory.importedGroups(.users).isEmpty)
        try await b.directory.markImported(.users, groupID: "g1", dn: "CN=Staff,DC=example,DC=test")
        try await b.directory.markImported(.users, groupID: "g2", dn: "CN=Ops,DC=example,DC=test")
        try await b.directory.markImported(.resources, groupID: "g3", dn: "OU=Servers,DC=example,DC=test")
        #expect(try await b.directory.importedGroups(.users) == ["g1": "CN=Staff,DC=example,DC=test", "g2": "CN=Ops,DC=example,DC=test"])
        #expect(try await b.directory.importedGroups(.resources) == ["g3": "OU=Servers,DC=example,DC=test"])
        try await b.directory.markImported(.accounts, ["a1": "CN=x,DC=example,DC=test", "a2": "CN=y,DC=example,DC=test"])
        #expect(try await b.directory.importedGroups(.accounts).count == 2)
        #expect(try await b.directory.importedGroups(.people).isEmpty)
    }
}
