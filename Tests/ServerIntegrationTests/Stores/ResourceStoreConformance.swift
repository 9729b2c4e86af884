import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `ResourceStore` must do: names unique in any case, a type and a policy
/// that exist, a caller who sees only what they own or what is shared with them (an account's
/// share shows its resource only where asked), a change decided on the stored resource, and no
/// deletion while a reset of one of its accounts is under way.
@Suite struct ResourceStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func principal(_ id: String, _ name: String) -> Principal {
        Principal(userID: id, username: name, role: .passwordAdministrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    }
    static let ana = principal("u-ana", "ana"), bo = principal("u-bo", "bo")
    static func resource(_ id: String, _ name: String, type: String = "Linux", policy: String? = nil) -> ResourceRecord {
        ResourceRecord(id: id, name: name, dnsName: name + ".example.test", type: type, description: nil, department: nil, location: nil, url: nil,
            customFields: [:], passwordPolicy: policy, ownerId: "u-ana", createdAt: t0, updatedAt: t0)
    }
    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "ana", ip: "test", operation: op) }

    func backend(_ name: String) async throws -> StoreBackend {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        return b
    }

    @Test(arguments: StoreBackend.names("resources"))
    func namesAreUniqueAndTypesAndPoliciesMustExist(_ name: String) async throws {
        let b = try await backend(name)
        try await b.resources.create(Self.resource("r-web", "web"), audit: Self.event("create_resource"))
        await #expect { try await b.resources.create(Self.resource("r-2", "WEB"), audit: Self.event("create_resource")) } throws: {
            ($0 as? StoreError)?.code == .conflict
        }
        await #expect { try await b.resources.create(Self.resource("r-3", "db", type: "NoSuchType"), audit: Self.event("create_resource")) } throws: {
            ($0 as? DomainError)?.code == "unknown_resource_type"
        }
        await #expect { try await b.resources.create(Self.resource("r-4", "db", policy: "nope"), audit: Self.event("create_resource")) } throws: {
            ($0 as? DomainError)?.code == "unknown_policy"
        }
        #expect(try await b.resources.resources(visibleTo: Self.ana).map(\.resource.id) == ["r-web"])
        #expect(try await b.resources.resources(visibleTo: Self.ana).first?.owner == "ana")
        #expect(try await b.auditOperations().filter { $0 == "create_resource" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("resources"))
    func anAccountShareShowsItsResourceOnlyWhereAsked(_ name: String) async throws {
        let b = try await backend(name)
        try await b.resources.create(Self.resource("r-web", "web"), audit: Self.event("create_resource"))
        try await b.resources.create(Self.resource("r-db", "db"), audit: Self.event("create_resource"))
        #expect(try await b.resources.resources(visibleTo: Self.bo).isEmpty)
        let aid = try await b.addAccount("r-web", "svc")
        try await b.share("account", aid, "u-bo", "view")
        #expect(try await b.resources.resources(visibleTo: Self.bo).map(\.resource.id) == ["r-web"])
        #expect(try await b.resources.resource("r-web", visibleTo: Self.bo, viaAccounts: true)?.permission == .view)
        #expect(try await b.resources.resource("r-web", visibleTo: Self.bo, viaAccounts: false) == nil)
        try await b.share("resource", "r-db", "u-bo", "modify")
        #expect(try await b.resources.resource("r-db", visibleTo: Self.bo, viaAccounts: false)?.permission == .modify)
        #expect(try await b.resources.resource("r-none", visibleTo: Self.ana, viaAccounts: true) == nil)
    }

    @Test(arguments: StoreBackend.names("resources"))
    func aChangeIsDecidedOnTheStoredResourceAndChecked(_ name: String) async throws {
        let b = try await backend(name)
        try await b.resources.create(Self.resource("r-web", "web"), audit: Self.event("create_resource"))
        await #expect { _ = try await b.resources.update("r-web", by: Self.ana, { _, _ in throw DomainError.forbidden("no") }) { _ in
            Self.event("update_resource") } } throws: { $0 is DomainError }
        await #expect { _ = try await b.resources.update("r-web", by: Self.ana, { r, _ in var r = r; r.type = "NoSuchType"; return r }) { _ in
            Self.event("update_resource") } } throws: { ($0 as? DomainError)?.code == "unknown_resource_type" }
        let seen = Seen()
        let updated = try await b.resources.update("r-web", by: Self.ana, { r, have in
            seen.add("\(r.name) \(have)")
            var r = r
            r.description = "front"
            return r
        }) { _ in Self.event("update_resource") }
        #expect(updated?.resource.description == "front" && seen.values == ["web manage"])
        #expect(try await b.resources.update("r-web", by: Self.bo, { r, _ in r }) { _ in Self.event("update_resource") } == nil, "not visible")
        #expect(try await b.auditOperations().filter { $0 == "update_resource" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("resources"))
    func noDeletionWhileAResetIsUnderWayAndSharesGoWithTheResource(_ name: String) async throws {
        let b = try await backend(name)
        try await b.resources.create(Self.resource("r-web", "web"), audit: Self.event("create_resource"))
        let aid = try await b.addAccount("r-web", "svc")
        try await b.share("resource", "r-web", "u-bo", "view")
        try await b.share("account", aid, "u-bo", "view")
        try await b.queueReset("r-web", aid)
        await #expect { _ = try await b.resources.delete("r-web", by: Self.ana, authorize: { _, _ in }) { _, _ in Self.event("delete_resource") } }
            throws: { ($0 as? DomainError)?.code == "reset_in_progress" }
        #expect(try await b.resources.resource("r-web", visibleTo: Self.ana, viaAccounts: false) != nil)
        try await b.resources.create(Self.resource("r-db", "db"), audit: Self.event("create_resource"))
        let dbAccount = try await b.addAccount("r-db", "dba")
        try await b.share("resource", "r-db", "u-bo", "view")
        try await b.share("account", dbAccount, "u-bo", "view")
        await #expect { _ = try await b.resources.delete("r-db", by: Self.bo, authorize: { _, have in
            if have < .manage { throw DomainError.forbidden("view") } }) { _, _ in Self.event("delete_resource") } } throws: { $0 is DomainError }
        #expect(try await b.resources.delete("r-db", by: Self.ana, authorize: { _, _ in }) { _, n in
            AuditEvent(user: "ana", ip: "test", operation: "delete_resource", message: "\(n) accounts") })
        #expect(try await b.objectShares("resource", "r-db") == 0)
        #expect(try await b.objectShares("account", dbAccount) == 0)
        #expect(try await b.resources.delete("r-db", by: Self.ana, authorize: { _, _ in }) { _, _ in Self.event("delete_resource") } == false)
        #expect(try await b.auditOperations().filter { $0 == "delete_resource" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("resources"))
    func aTransferIsDecidedOnTheStoredResourceAndUser(_ name: String) async throws {
        let b = try await backend(name)
        try await b.resources.create(Self.resource("r-web", "web"), audit: Self.event("create_resource"))
        let seen = Seen()
        await #expect { _ = try await b.resources.transfer("r-web", to: "nobody", by: Self.ana, authorize: { _, _, to in
            seen.add(to == nil ? "none" : "user")
            if to == nil { throw DomainError.invalid("unknown_user", "nobody") }
        }) { _, _ in Self.event("transfer_ownership") } } throws: { $0 is DomainError }
        #expect(try await b.resources.transfer("r-web", to: "Bo", by: Self.ana, authorize: { _, _, to in seen.add(to?.id ?? "-") }) { _, _ in
            Self.event("transfer_ownership") })
        #expect(seen.values == ["none", "u-bo"])
        #expect(try await b.resources.resource("r-web", visibleTo: Self.bo, viaAccounts: false)?.entry.owner == "bo")
        #expect(try await b.auditOperations().filter { $0 == "transfer_ownership" }.count == 1)
    }
}
