import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `UserGroupStore` must do: names unique in any case, members by user name,
/// nothing stored when a member is unknown, and a deleted group's shares gone with it.
@Suite struct UserGroupStoreConformance {
    func backend(_ name: String) async throws -> StoreBackend {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "Bo")
        try await b.addUser("u-cy", "cy")
        return b
    }

    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "root", ip: "test", operation: op) }

    @Test(arguments: StoreBackend.names("userGroups"))
    func groupsAreCreatedWithTheirMembersAndListedByNameOrByMember(_ name: String) async throws {
        let b = try await backend(name)
        try await b.userGroups.create(id: "g-ops", name: "ops", members: ["ana", "bo", "ANA"], audit: Self.event("create_user_group"))
        try await b.userGroups.create(id: "g-dba", name: "dba", members: [], audit: Self.event("create_user_group"))
        #expect(try await b.userGroups.groups(memberOf: nil)
            == [UserGroup(id: "g-dba", name: "dba", members: []), UserGroup(id: "g-ops", name: "ops", members: ["ana", "Bo"])])
        #expect(try await b.userGroups.groups(memberOf: "u-bo").map(\.id) == ["g-ops"])
        #expect(try await b.userGroups.groups(memberOf: "u-cy").isEmpty)
        #expect(try await b.auditOperations().filter { $0 == "create_user_group" }.count == 2)
    }

    @Test(arguments: StoreBackend.names("userGroups"))
    func aTakenNameOrAnUnknownMemberStoresNothing(_ name: String) async throws {
        let b = try await backend(name)
        try await b.userGroups.create(id: "g-ops", name: "ops", members: ["ana"], audit: Self.event("create_user_group"))
        await #expect { try await b.userGroups.create(id: "g-2", name: "OPS", members: [], audit: Self.event("create_user_group")) } throws: {
            ($0 as? StoreError)?.code == .conflict
        }
        await #expect { try await b.userGroups.create(id: "g-3", name: "web", members: ["ana", "nobody"], audit: Self.event("create_user_group")) }
            throws: { ($0 as? StoreError)?.code == .notFound && "\($0)".contains("nobody") }
        await #expect { _ = try await b.userGroups.setMembers("g-ops", ["cy", "nobody"], audit: Self.event("update_user_group")) } throws: {
            ($0 as? StoreError)?.code == .notFound
        }
        #expect(try await b.userGroups.groups(memberOf: nil) == [UserGroup(id: "g-ops", name: "ops", members: ["ana"])], "as before")
        #expect(try await b.auditOperations().filter { $0.hasSuffix("_user_group") } == ["create_user_group"], "no audit of what failed")
    }

    @Test(arguments: StoreBackend.names("userGroups"))
    func membersAreReplacedAndADeletedGroupTakesItsSharesWithIt(_ name: String) async throws {
        let b = try await backend(name)
        try await b.userGroups.create(id: "g-ops", name: "ops", members: ["ana"], audit: Self.event("create_user_group"))
        #expect(try await b.userGroups.setMembers("g-ops", ["cy", "bo"], audit: Self.event("update_user_group")))
        #expect(try await b.userGroups.groups(memberOf: nil).first?.members == ["Bo", "cy"])
        #expect(try await b.userGroups.setMembers("g-none", [], audit: Self.event("update_user_group")) == false)
        try await b.shareWithGroup("g-ops")
        #expect(try await b.groupShares("g-ops") == 1)
        #expect(try await b.userGroups.delete("g-ops", audit: Self.event("delete_user_group")))
        #expect(try await b.groupShares("g-ops") == 0, "no share outlives its group")
        #expect(try await b.userGroups.groups(memberOf: nil).isEmpty)
        #expect(try await b.userGroups.delete("g-ops", audit: Self.event("delete_user_group")) == false)
        #expect(try await b.auditOperations().filter { $0.hasSuffix("_user_group") }
            == ["create_user_group", "update_user_group", "delete_user_group"])
    }
}
