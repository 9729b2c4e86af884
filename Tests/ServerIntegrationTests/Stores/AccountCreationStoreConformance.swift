import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AccountCreationStore` must do: an account comes with its first password,
/// names are unique per resource, the resource's visibility and the caller's permission decide,
/// and an import line creates its resource only when none has the name (of a type that exists).
@Suite struct AccountCreationStoreConformance {
    static let ana = TaskStoreConformance.ana
    static let bo = TaskStoreConformance.bo
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func account(_ login: String, on r: ResourceRecord) -> AccountRecord {
        AccountRecord(id: newID(), resourceId: r.id, loginName: login, description: nil, notes: nil, customFields: [:], syncStatus: .neverChecked,
            lastVerifiedAt: nil, lastChangedAt: t0, createdAt: t0)
    }
    static let created: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent = { _, _ in AuditEvent(user: "ana", ip: "t", operation: "create_account") }

    @Test(arguments: StoreBackend.names("accountCreation"))
    func anAccountComesWithItsPasswordAndItsNameIsUnique(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let rid = try await b.ownResource("u-ana")
        #expect(try await b.accountCreation.create(in: rid, visibleTo: Self.bo, authorize: Self.anyone,
            make: { (Self.account("svc", on: $0), Secret("Svc-Pass-1!")) }, audit: Self.created) == nil)
        await #expect(throws: DomainError.self) {
            _ = try await b.accountCreation.create(in: rid, visibleTo: Self.ana, authorize: { _ in throw DomainError(.forbidden, "no", "view only") },
                make: { (Self.account("svc", on: $0), Secret("Svc-Pass-1!")) }, audit: Self.created)
        }
        let a = try #require(try await b.accountCreation.create(in: rid, visibleTo: Self.ana, authorize: Self.anyone,
            make: { (Self.account("svc", on: $0), Secret("Svc-Pass-1!")) }, audit: Self.created))
        #expect(try await b.tasks.run(resourceID: rid, accountID: a.id) { _ in [] }.current?.reveal() == "Svc-Pass-1!")
        await #expect(throws: DomainError.self) {
            _ = try await b.accountCreation.create(in: rid, visibleTo: Self.ana, authorize: Self.anyone,
                make: { (Self.account("svc", on: $0), Secret("Other-1!")) }, audit: Self.created)
        }
        #expect(try await b.auditOperations().filter { $0 == "create_account" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("accountCreation"))
    func anImportLineCreatesItsResourceOnlyWhenNoneHasTheName(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        func resource(_ name: String, type: String = "Linux", owner: String = "u-ana") -> @Sendable () -> ResourceRecord {
            { ResourceRecord(id: newID(), name: name, dnsName: name, type: type, description: nil, department: nil, location: nil, url: nil,
                customFields: [:], passwordPolicy: nil, ownerId: owner, createdAt: Self.t0, updatedAt: Self.t0) }
        }
        let audit: @Sendable (ResourceRecord, AccountRecord, Bool) -> AuditEvent = { r, a, created in
            AuditEvent(user: "ana", ip: "t", operation: "import_line", message: "\(r.name) \(a.loginName) \(created)")
        }
        let created = try await b.accountCreation.importAccount(resourceName: "web01", by: Self.ana, newResource: resource("web01"),
            make: { r, policy in
                #expect(!policy.name.isEmpty)
                return (Self.account("root", on: r), Secret("Root-Pass-1!"))
            }, audit: audit)
        #expect(created)
        #expect(try await !b.accountCreation.importAccount(resourceName: "web01", by: Self.ana, newResource: resource("web01"),
            make: { r, _ in (Self.account("app", on: r), Secret("App-Pass-1!")) }, audit: audit))
        await #expect(throws: DomainError.self) {
            _ = try await b.accountCreation.importAccount(resourceName: "web01", by: Self.bo, newResource: resource("web01", owner: "u-bo"),
                make: { r, _ in (Self.account("bo", on: r), Secret("Bo-Pass-1!")) }, audit: audit)
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.accountCreation.importAccount(resourceName: "db01", by: Self.ana, newResource: resource("db01", type: "No Such Type"),
                make: { r, _ in (Self.account("sa", on: r), Secret("Sa-Pass-1!")) }, audit: audit)
        }
        let listed = try await b.resources.resources(visibleTo: Self.ana).map(\.resource.name)
        #expect(listed == ["web01"] || listed.filter { $0 == "web01" || $0 == "db01" } == ["web01"])
        #expect(try await b.auditOperations().filter { $0 == "import_line" }.count == 2)
    }
}
