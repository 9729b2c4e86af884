import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `GroupStore` must do: a caller sees the groups they own or that are
/// shared with them, with that permission; names are unique in any case; every resource is
/// checked before any is written and a refusal stores nothing; a deleted group takes its shares,
/// not its resources; a transfer is decided on the group and the user as stored.
@Suite struct GroupStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func principal(_ id: String, _ name: String, role: Role = .passwordAdministrator) -> Principal {
        Principal(userID: id, username: name, role: role, superAdmin: false, mustChangePassword: false, tokenID: "t")
    }

    static let ana = principal("u-ana", "ana")
    static let bo = principal("u-bo", "bo")
    static let allow: ResourceCheck = { _, _, _ in }
    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "ana", ip: "test", operation: op) }
    static func group(_ id: String, _ name: String, owner: String = "u-ana", policy: String? = nil) -> GroupRecord {
        GroupRecord(id: id, name: name, ownerId: owner, passwordPolicy: policy, createdAt: t0)
    }

    func backend(_ name: String) async throws -> StoreBackend {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        return b
    }

    @Test(arguments: StoreBackend.names("groups"))
    func aCallerSeesOwnedAndSharedGroupsByNameWithTheirPermission(_ name: String) async throws {
        let b = try await backend(name)
        let r1 = try await b.ownResource("u-ana"), r2 = try await b.ownResource("u-ana")
        let web = try await b.groups.create(Self.group("g-web", "web"), resourceIds: [r2, r1, r1], by: Self.ana, check: Self.allow,
            audit: Self.event("create_group"))
        #expect(web == GroupEntry(group: Self.group("g-web", "web"), owner: "ana", resourceIds: [r1, r2].sorted()))
        _ = try await b.groups.create(Self.group("g-db", "db"), resourceIds: [], by: Self.ana, check: Self.allow, audit: Self.event("create_group"))
        #expect(try await b.groups.groups(visibleTo: Self.ana).map(\.entry.group.name) == ["db", "web"])
        #expect(try await b.groups.groups(visibleTo: Self.bo).isEmpty)
        #expect(try await b.groups.group("g-web", visibleTo: Self.bo) == nil)
        try await b.share("group", "g-web", "u-bo", "modify")
        #expect(try await b.groups.groups(visibleTo: Self.bo).map { "\($0.entry.group.name):\($0.permission)" } == ["web:modify"])
        #expect(try await b.groups.group("g-web", visibleTo: Self.ana)?.permission == .manage, "the owner manages")
    }

    @Test(arguments: StoreBackend.names("groups"))
    func aTakenNameAnUnknownPolicyOrARefusedResourceStoresNothing(_ name: String) async throws {
        let b = try await backend(name)
        let r1 = try await b.ownResource("u-ana"), other = try await b.ownResource("u-bo")
        _ = try await b.groups.create(Self.group("g-web", "web"), resourceIds: [], by: Self.ana, check: Self.allow, audit: Self.event("create_group"))
        await #expect { _ = try await b.groups.create(Self.group("g-2", "WEB"), resourceIds: [], by: Self.ana, check: Self.allow,
            audit: Self.event("create_group")) } throws: { ($0 as? StoreError)?.code == .conflict }
        await #expect { _ = try await b.groups.create(Self.group("g-3", "db", policy: "no-such-policy"), resourceIds: [], by: Self.ana,
            check: Self.allow, audit: Self.event("create_group")) } throws: { ($0 as? StoreError)?.code == .notFound }
        // The check sees each resource with the caller's permission: ana's own (manage), bo's (none).
        let seen = Seen()
        let refuseOthers: ResourceCheck = { id, name, have in
            seen.add("\(id == r1 ? "mine" : id == other ? "other" : "none"):\(name == nil ? "-" : "named"):\(have.map { "\($0)" } ?? "-")")
            if have == nil { throw DomainError.invalid("unknown_resource", id) }
        }
        // Checked in id order ("zz" after any lowercase UUID): ana's own passes, the unknown one refuses.
        await #expect { _ = try await b.groups.create(Self.group("g-4", "mixed"), resourceIds: ["zz-nothing", r1], by: Self.ana,
            check: refuseOthers, audit: Self.event("create_group")) } throws: { $0 is DomainError }
        await #expect { _ = try await b.groups.create(Self.group("g-5", "theirs"), resourceIds: [other], by: Self.ana,
            check: refuseOthers, audit: Self.event("create_group")) } throws: { $0 is DomainError }
        #expect(seen.values == ["mine:named:manage", "none:-:-", "other:named:-"])
        #expect(try await b.groups.groups(visibleTo: Self.ana).map(\.entry.group.name) == ["web"], "nothing of the refused ones")
        #expect(try await b.auditOperations().filter { $0 == "create_group" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("groups"))
    func resourcesAreReplacedOnlyWhenAuthorizedAndEveryCheckPasses(_ name: String) async throws {
        let b = try await backend(name)
        let r1 = try await b.ownResource("u-ana"), r2 = try await b.ownResource("u-ana")
        _ = try await b.groups.create(Self.group("g-web", "web"), resourceIds: [r1], by: Self.ana, check: Self.allow, audit: Self.event("create_group"))
        try await b.share("group", "g-web", "u-bo", "view")
        await #expect { _ = try await b.groups.setResources("g-web", [r2], by: Self.bo, authorize: { _, have in
            if have < .manage { throw DomainError.forbidden("view only") } }, check: Self.allow) { _ in Self.event("update_group") }
        } throws: { ($0 as? DomainError)?.kind == .forbidden }
        await #expect { _ = try await b.groups.setResources("g-web", [r2, "nothing"], by: Self.ana, authorize: { _, _ in },
            check: { id, _, _ in if id == "nothing" { throw DomainError.invalid("unknown_resource", id) } }) { _ in Self.event("update_group") }
        } throws: { $0 is DomainError }
        #expect(try await b.groups.group("g-web", visibleTo: Self.ana)?.entry.resourceIds == [r1], "as before")
        let updated = try await b.groups.setResources("g-web", [r2], by: Self.ana, authorize: { _, _ in }, check: Self.allow) { _ in Self.event("update_group") }
        #expect(updated?.resourceIds == [r2])
        #expect(try await b.groups.setResources("g-none", [], by: Self.ana, authorize: { _, _ in }, check: Self.allow) { _ in Self.event("update_group") } == nil)
        #expect(try await b.auditOperations().filter { $0 == "update_group" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("groups"))
    func aDeletedGroupTakesItsSharesAndLeavesItsResources(_ name: String) async throws {
        let b = try await backend(name)
        let r1 = try await b.ownResource("u-ana")
        _ = try await b.groups.create(Self.group("g-web", "web"), resourceIds: [r1], by: Self.ana, check: Self.allow, audit: Self.event("create_group"))
        try await b.share("group", "g-web", "u-bo", "view")
        await #expect { _ = try await b.groups.delete("g-web", by: Self.bo, authorize: { _, _ in throw DomainError.forbidden("no") }) { _ in
            Self.event("delete_group") } } throws: { ($0 as? DomainError)?.kind == .forbidden }
        #expect(try await b.objectShares("group", "g-web") == 1, "a refused deletion changes nothing")
        #expect(try await b.groups.delete("g-web", by: Self.ana, authorize: { _, _ in }) { _ in Self.event("delete_group") })
        #expect(try await b.objectShares("group", "g-web") == 0)
        #expect(try await b.groups.groups(visibleTo: Self.ana).isEmpty)
        #expect(try await b.ownResource("u-ana") != r1, "resources stay (a new one still has its own id)")
        #expect(try await b.groups.delete("g-web", by: Self.ana, authorize: { _, _ in }) { _ in Self.event("delete_group") } == false)
        #expect(try await b.auditOperations().filter { $0 == "delete_group" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("groups"))
    func aTransferIsDecidedOnTheStoredGroupAndUser(_ name: String) async throws {
        let b = try await backend(name)
        _ = try await b.groups.create(Self.group("g-web", "web"), resourceIds: [], by: Self.ana, check: Self.allow, audit: Self.event("create_group"))
        let seen = Seen()
        await #expect { _ = try await b.groups.transfer("g-web", to: "nobody", by: Self.ana, authorize: { _, _, to in
            seen.add(to == nil ? "no user" : "user")
            if to == nil { throw DomainError.invalid("unknown_user", "nobody") }
        }) { _, _ in Self.event("transfer_ownership") } } throws: { $0 is DomainError }
        #expect(seen.values == ["no user"])
        let transferred = try await b.groups.transfer("g-web", to: "BO", by: Self.ana, authorize: { g, have, to in
            seen.add("\(g.ownerId) \(have) \(to?.id ?? "-")")
        }) { _, _ in Self.event("transfer_ownership") }
        #expect(transferred)
        #expect(seen.values.last == "u-ana manage u-bo", "decided on the group and the user as stored")
        #expect(try await b.groups.group("g-web", visibleTo: Self.bo)?.entry.owner == "bo")
        #expect(try await b.groups.group("g-web", visibleTo: Self.ana) == nil, "the old owner holds no share")
        #expect(try await b.groups.transfer("g-web", to: "ana", by: Self.ana, authorize: { _, _, _ in }) { _, _ in Self.event("transfer_ownership") }
            == false, "not visible to ana any more")
        #expect(try await b.auditOperations().filter { $0 == "transfer_ownership" }.count == 1)
    }
}

/// What a closure saw, for a test to read afterwards.
final class Seen: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var values: [String] { lock.withLock { items } }
}
