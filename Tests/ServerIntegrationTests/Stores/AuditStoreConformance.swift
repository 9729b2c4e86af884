import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AuditStore` must do: records come back newest first, filtered and
/// limited, and a caller who does not oversee sees only their own actions and those on what is
/// shared with them.
@Suite struct AuditStoreConformance {
    static func principal(_ id: String, _ name: String, _ role: Role) -> Principal {
        Principal(userID: id, username: name, role: role, superAdmin: false, mustChangePassword: false, tokenID: "t")
    }

    @Test(arguments: StoreBackend.names("audit"))
    func recordsComeBackNewestFirstFilteredAndScoped(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let shared = try await b.ownResource("u-ana"), hidden = try await b.ownResource("u-ana")
        try await b.share("resource", shared, "u-bo", "view")
        try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "op1", resourceId: shared))
        try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "op2", resourceId: hidden))
        try await b.audit.append(AuditEvent(user: "bo", ip: "b", operation: "op3"))
        try await b.audit.append(AuditEvent(user: "ana", ip: "a", operation: "op4"))
        let admin = Self.principal("u-ana", "ana", .administrator)
        var q = AuditLog.Query()
        q.limit = 10
        #expect(try await b.audit.entries(q, visibleTo: admin).map(\.operation).filter { $0.hasPrefix("op") } == ["op4", "op3", "op2", "op1"])
        q.user = "ana"
        #expect(try await b.audit.entries(q, visibleTo: admin).map(\.operation) == ["op4", "op2", "op1"])
        q.user = nil
        q.limit = 2
        #expect(try await b.audit.entries(q, visibleTo: admin).map(\.operation) == ["op4", "op3"])
        q.limit = 10
        let bo = Self.principal("u-bo", "bo", .passwordAdministrator)
        #expect(try await b.audit.entries(q, visibleTo: bo).map(\.operation) == ["op3", "op1"], "own actions and what is shared, nothing else")
    }
}
