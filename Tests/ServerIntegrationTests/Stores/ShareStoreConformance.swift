import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `ShareStore` must do: shares read and replaced by name on a resource, a
/// group or one account; the caller's permission and the rule decided on what is stored; an
/// unknown user or user group, or a refusal, leaves the shares as they were.
@Suite struct ShareStoreConformance {
    static func principal(_ id: String, _ name: String) -> Principal {
        Principal(userID: id, username: name, role: .passwordAdministrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    }
    static let ana = principal("u-ana", "ana"), bo = principal("u-bo", "bo")
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let noRule: ShareRule = { _, _ in }
    static func event(_ o: SharedObject) -> AuditEvent {
        AuditEvent(user: "ana", ip: "test", operation: "share", message: o.account?.loginName ?? o.group?.name ?? o.resource?.name)
    }

    func backend(_ name: String) async throws -> (StoreBackend, String, String) {
        let b = try await StoreBackend.make(name)
        for (id, user) in [("u-ana", "ana"), ("u-bo", "bo"), ("u-cy", "cy")] { try await b.addUser(id, user) }
        try await b.userGroups.create(id: "g-ops", name: "ops", members: ["ana"], audit: AuditEvent(user: "root", ip: "t", operation: "create_user_group"))
        let rid = try await b.ownResource("u-ana")
        return (b, rid, try await b.addAccount(rid, "svc"))
    }

    @Test(arguments: StoreBackend.names("shares"))
    func sharesAreReplacedAndReadByNameOnEachKindOfObject(_ name: String) async throws {
        let (b, rid, aid) = try await backend(name)
        let list = ShareList(users: [.init(username: "bo", permission: .modify)], userGroups: [.init(name: "OPS", permission: .view)])
        #expect(try await b.shares.replace(.resource(rid), with: list, by: Self.ana, authorize: Self.anyone, rule: Self.noRule, audit: Self.event)
            == .replaced)
        #expect(try await b.shares.shares(of: .resource(rid), by: Self.ana, authorize: Self.anyone)
            == ShareList(users: [.init(username: "bo", permission: .modify)], userGroups: [.init(name: "ops", permission: .view)]))
        #expect(try await b.shares.replace(.account(resource: rid, account: aid), with: ShareList(users: [.init(username: "cy", permission: .view)]),
            by: Self.ana, authorize: Self.anyone, rule: Self.noRule, audit: Self.event) == .replaced)
        #expect(try await b.shares.shares(of: .account(resource: rid, account: aid), by: Self.ana, authorize: Self.anyone)?.users.map(\.username)
            == ["cy"])
        #expect(try await b.shares.shares(of: .account(resource: "r-other", account: aid), by: Self.ana, authorize: Self.anyone) == nil,
            "an account is found only under its own resource")
        #expect(try await b.shares.replace(.resource(rid), with: ShareList(), by: Self.ana, authorize: Self.anyone, rule: Self.noRule,
            audit: Self.event) == .replaced)
        #expect(try await b.shares.shares(of: .resource(rid), by: Self.ana, authorize: Self.anyone) == ShareList())
        #expect(try await b.auditOperations().filter { $0 == "share" }.count == 3)
    }

    @Test(arguments: StoreBackend.names("shares"))
    func theCallersPermissionAndTheRuleAreDecidedOnWhatIsStored(_ name: String) async throws {
        let (b, rid, _) = try await backend(name)
        #expect(try await b.shares.shares(of: .resource(rid), by: Self.bo, authorize: Self.anyone) == nil, "bo cannot see it")
        try await b.share("resource", rid, "u-bo", "view")
        let seen = Seen()
        let needsManage: @Sendable (Permission) throws -> Void = { have in
            seen.add("\(have)")
            if have < .manage { throw DomainError.forbidden("manage") }
        }
        await #expect { _ = try await b.shares.shares(of: .resource(rid), by: Self.bo, authorize: needsManage) } throws: { $0 is DomainError }
        #expect(seen.values == ["view"])
        let rule: ShareRule = { held, mine in
            seen.add("held \(held.map(\.principalId)) mine \(mine.map(\.name))")
            throw DomainError.forbidden("rule")
        }
        await #expect { _ = try await b.shares.replace(.resource(rid), with: ShareList(), by: Self.ana, authorize: Self.anyone, rule: rule,
            audit: Self.event) } throws: { $0 is DomainError }
        #expect(seen.values.last == "held [\"u-bo\"] mine [\"ops\"]")
        #expect(try await b.shares.shares(of: .resource(rid), by: Self.ana, authorize: Self.anyone)?.users.map(\.username) == ["bo"], "unchanged")
    }

    @Test(arguments: StoreBackend.names("shares"))
    func anUnknownNameLeavesTheSharesAsTheyWere(_ name: String) async throws {
        let (b, rid, _) = try await backend(name)
        try await b.share("resource", rid, "u-bo", "view")
        #expect(try await b.shares.replace(.resource(rid), with: ShareList(users: [.init(username: "cy", permission: .view),
            .init(username: "nobody", permission: .view)]), by: Self.ana, authorize: Self.anyone, rule: Self.noRule, audit: Self.event)
            == .unknownUser("nobody"))
        #expect(try await b.shares.replace(.resource(rid), with: ShareList(userGroups: [.init(name: "nogroup", permission: .view)]), by: Self.ana,
            authorize: Self.anyone, rule: Self.noRule, audit: Self.event) == .unknownUserGroup("nogroup"))
        #expect(try await b.shares.replace(.group("g-none"), with: ShareList(), by: Self.ana, authorize: Self.anyone, rule: Self.noRule,
            audit: Self.event) == .notVisible)
        #expect(try await b.shares.shares(of: .resource(rid), by: Self.ana, authorize: Self.anyone)?.users.map(\.username) == ["bo"])
        #expect(try await b.auditOperations().filter { $0 == "share" }.isEmpty)
    }
}
