import Foundation

/// Groups' rotation schedules: show, save, remove. Reading takes read on the group, changing
/// takes update (manage). Authorization goes through the one `Authorizer`, here, so the API and
/// the console get the same answer. Running a rotation is the scheduler's (`Custody+Rotation`).
struct RotationSchedules: Sendable {
    let store: any RotationStore
    let authorizer: Authorizer
    let now: @Sendable () -> Date

    /// The group's schedule; a group without one is `notFound("rotation schedule")`.
    func rotation(of groupID: String, by p: Principal) async throws -> SavedRotation {
        switch try await store.rotation(of: groupID, visibleTo: p, authorize: authorizer.on(p, .readGroup)) {
        case .notVisible: throw DomainError.notFound("group")
        case .found(_, nil): throw DomainError.notFound("rotation schedule")
        case .found(_, let saved?): return saved
        }
    }

    func save(_ config: RotationConfig, for groupID: String, by p: Principal, ip: String) async throws -> SavedRotation {
        try config.validate()
        let s = config.schedule
        let saved = try await store.save(config, for: groupID, at: now(), by: p, authorize: authorizer.on(p, .updateGroup)) { g in
            AuditEvent(user: p.username, ip: ip, operation: "save_rotation",
                message: "group \(g.name): \(s.kind.rawValue) at \(s.at) \(s.timeZone ?? "server time"), \(config.passwordChoice.rawValue)")
        }
        guard let saved else { throw DomainError.notFound("group") }
        return saved
    }

    func delete(for groupID: String, by p: Principal, ip: String) async throws {
        let done = try await store.delete(for: groupID, by: p, authorize: authorizer.on(p, .updateGroup)) { g in
            AuditEvent(user: p.username, ip: ip, operation: "delete_rotation", message: "group \(g.name)")
        }
        guard done else { throw DomainError.notFound("group") }
    }
}
