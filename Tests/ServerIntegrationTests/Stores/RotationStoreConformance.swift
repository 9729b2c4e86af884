import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `RotationStore` must do: one schedule per group, replaced by a save and
/// read back whole; the group's visibility and the caller's permission decided on what is stored,
/// a refusal changing nothing.
@Suite struct RotationStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = Principal(userID: "u-ana", username: "ana", role: .administrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    static let bo = Principal(userID: "u-bo", username: "bo", role: .administrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static func config(days: Int) -> RotationConfig {
        RotationConfig(schedule: RotationSchedule(kind: .days, at: "02:00", everyDays: days), passwordChoice: .unique)
    }
    static func event(_ g: GroupRecord) -> AuditEvent { AuditEvent(user: "ana", ip: "test", operation: "rotation_change", message: g.name) }

    @Test(arguments: StoreBackend.names("rotations"))
    func oneScheduleAGroupReplacedAndReadBackWhole(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        _ = try await b.groups.create(GroupRecord(id: "g-web", name: "web", ownerId: "u-ana", passwordPolicy: nil, createdAt: Self.t0),
            resourceIds: [], by: Self.ana, check: { _, _, _ in }, audit: AuditEvent(user: "ana", ip: "t", operation: "create_group"))
        guard case .found(_, nil) = try await b.rotations.rotation(of: "g-web", visibleTo: Self.ana, authorize: Self.anyone) else {
            Issue.record("a new group has no schedule")
            return
        }
        _ = try await b.rotations.save(Self.config(days: 30), for: "g-web", at: Self.t0, by: Self.ana, authorize: Self.anyone, audit: Self.event)
        let saved = try await b.rotations.save(Self.config(days: 7), for: "g-web", at: Self.t0.addingTimeInterval(60), by: Self.ana,
            authorize: Self.anyone, audit: Self.event)
        #expect(saved?.config == Self.config(days: 7) && saved?.savedAt == Self.t0.addingTimeInterval(60) && saved?.lastRunAt == nil)
        guard case .found(let g, let read?) = try await b.rotations.rotation(of: "g-web", visibleTo: Self.ana, authorize: Self.anyone) else {
            Issue.record("saved")
            return
        }
        #expect(g.name == "web" && read.config == Self.config(days: 7))
        #expect(try await b.rotations.delete(for: "g-web", by: Self.ana, authorize: Self.anyone, audit: Self.event))
        guard case .found(_, nil) = try await b.rotations.rotation(of: "g-web", visibleTo: Self.ana, authorize: Self.anyone) else {
            Issue.record("removed")
            return
        }
        #expect(try await b.auditOperations().filter { $0 == "rotation_change" }.count == 3)
    }

    @Test(arguments: StoreBackend.names("rotations"))
    func theGroupsVisibilityAndTheCallersPermissionDecide(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        _ = try await b.groups.create(GroupRecord(id: "g-web", name: "web", ownerId: "u-ana", passwordPolicy: nil, createdAt: Self.t0),
            resourceIds: [], by: Self.ana, check: { _, _, _ in }, audit: AuditEvent(user: "ana", ip: "t", operation: "create_group"))
        guard case .notVisible = try await b.rotations.rotation(of: "g-web", visibleTo: Self.bo, authorize: Self.anyone) else {
            Issue.record("bo cannot see the group")
            return
        }
        #expect(try await b.rotations.save(Self.config(days: 7), for: "g-web", at: Self.t0, by: Self.bo, authorize: Self.anyone, audit: Self.event)
            == nil)
        try await b.share("group", "g-web", "u-bo", "view")
        let needsManage: @Sendable (Permission) throws -> Void = { if $0 < .manage { throw DomainError.forbidden("view") } }
        await #expect { _ = try await b.rotations.save(Self.config(days: 7), for: "g-web", at: Self.t0, by: Self.bo, authorize: needsManage,
            audit: Self.event) } throws: { $0 is DomainError }
        await #expect { _ = try await b.rotations.delete(for: "g-web", by: Self.bo, authorize: needsManage, audit: Self.event) } throws: {
            $0 is DomainError
        }
        guard case .found(_, nil) = try await b.rotations.rotation(of: "g-web", visibleTo: Self.bo, authorize: Self.anyone) else {
            Issue.record("nothing saved by a refusal")
            return
        }
        #expect(try await b.rotations.delete(for: "g-none", by: Self.ana, authorize: Self.anyone, audit: Self.event) == false)
        #expect(try await b.auditOperations().filter { $0 == "rotation_change" }.isEmpty)
    }
}
