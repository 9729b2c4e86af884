import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `UserStore` must do: names unique in any case, a change decided on the
/// user as stored (a refusal changes nothing and audits nothing), a password set that ends every
/// session and token, and a deletion refused while the user owns something.
@Suite struct UserStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func user(_ id: String, _ name: String, role: Role = .passwordUser) -> UserRecord {
        UserRecord(id: id, username: name, passwordHash: "h", role: role, superAdmin: false, email: nil, mustChangePassword: true,
            createdAt: t0)
    }

    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "root", ip: "test", operation: op) }

    @Test(arguments: StoreBackend.names("users"))
    func namesAreUniqueInAnyCaseAndListedInOrder(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.users.add(Self.user("u-bo", "bo"), audit: Self.event("create_user"))
        try await b.users.add(Self.user("u-ana", "ana"), audit: Self.event("create_user"))
        await #expect { try await b.users.add(Self.user("u-x", "ANA"), audit: Self.event("create_user")) } throws: {
            ($0 as? StoreError)?.code == .conflict
        }
        #expect(try await b.users.users().map(\.username) == ["ana", "bo"])
        #expect(try await b.users.user(id: "u-x") == nil)
        #expect(try await b.auditOperations().filter { $0 == "create_user" }.count == 2)
    }

    @Test(arguments: StoreBackend.names("users"))
    func aChangeIsDecidedOnTheStoredUserAndARefusalChangesNothing(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.users.add(Self.user("u-ana", "ana"), audit: Self.event("create_user"))
        for (id, kind) in [("t-s", TokenRecord.Kind.session), ("t-api", .api)] {
            try await b.identities.addToken(TokenRecord(id: id, userId: "u-ana", name: id, kind: kind, hash: "h-" + id, createdAt: Self.t0),
                audit: nil)
        }
        await #expect { _ = try await b.users.update("u-ana", at: Self.t0) { _ in throw DomainError.forbidden("no") } } throws: {
            ($0 as? DomainError)?.kind == .forbidden
        }
        let seen = try await b.users.update("u-ana", at: Self.t0) { u in
            var u = u
            u.role = .passwordAdministrator
            return UserChange(user: u, audit: Self.event("update_user"))
        }
        #expect(seen?.role == .passwordAdministrator)
        #expect(try await b.users.user(id: "u-ana")?.role == .passwordAdministrator)
        #expect(try await b.identities.token(id: "t-api")?.revokedAt == nil, "a role change keeps the sessions")
        _ = try await b.users.update("u-ana", at: Self.t0) { u in
            #expect(u.role == .passwordAdministrator, "the closure sees the user as stored")
            var u = u
            u.passwordHash = "new"
            return UserChange(user: u, endSessions: true, audit: Self.event("update_user"))
        }
        #expect(try await b.identities.token(id: "t-api")?.revokedAt != nil)
        #expect(try await b.identities.token(id: "t-s")?.revokedAt != nil)
        #expect(try await b.users.update("u-none", at: Self.t0) { UserChange(user: $0, audit: Self.event("update_user")) } == nil)
        #expect(try await b.auditOperations().filter { $0 == "update_user" }.count == 2, "the refusal is not audited")
    }

    @Test(arguments: StoreBackend.names("users"))
    func aUserWhoOwnsSomethingStaysAndADeletedUserTakesTheirShares(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.users.add(Self.user("u-ana", "ana"), audit: Self.event("create_user"))
        try await b.users.add(Self.user("u-bo", "bo"), audit: Self.event("create_user"))
        _ = try await b.ownResource("u-ana")
        await #expect { _ = try await b.users.delete("u-ana") { _ in Self.event("delete_user") } } throws: {
            ($0 as? StoreError)?.code == .conflict && "\($0)".contains("ana")
        }
        #expect(try await b.users.user(id: "u-ana") != nil)
        await #expect { _ = try await b.users.delete("u-bo") { _ in throw DomainError.forbidden("no") } } throws: { $0 is DomainError }
        try await b.shareWithUser("u-bo")
        #expect(try await b.userShares("u-bo") == 1)
        #expect(try await b.users.delete("u-bo") { _ in Self.event("delete_user") }?.username == "bo")
        #expect(try await b.users.user(id: "u-bo") == nil)
        #expect(try await b.userShares("u-bo") == 0, "no share outlives its user")
        #expect(try await b.users.delete("u-bo") { _ in Self.event("delete_user") } == nil)
        #expect(try await b.auditOperations().filter { $0 == "delete_user" } == ["delete_user"])
    }
}
