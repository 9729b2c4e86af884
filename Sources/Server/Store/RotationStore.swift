import Foundation

/// A group's saved rotation schedule and when it last ran.
struct SavedRotation: Sendable {
    let groupId: String
    let config: RotationConfig
    let savedAt: Date
    let lastRunAt: Date?

    var nextRunAt: Date? { config.schedule.next(after: lastRunAt ?? savedAt, saved: savedAt) }
}

/// What a group's schedule lookup found.
enum RotationLookup: Sendable {
    /// The caller cannot see the group.
    case notVisible
    /// The group, and its schedule if it has one.
    case found(GroupRecord, SavedRotation?)
}

/// Groups' rotation schedules (one per group). The group's visibility and the caller's
/// permission are those of `Access`; `authorize` decides with them on what is stored. Every
/// method is one transaction, and a refusal changes nothing.
protocol RotationStore: Sendable {
    func rotation(of groupID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> RotationLookup
    /// Saves (or replaces) the group's schedule; nil when the caller cannot see the group.
    func save(_ config: RotationConfig, for groupID: String, at: Date, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> SavedRotation?
    /// Removes the group's schedule (having none is fine); false when the caller cannot see the group.
    func delete(for groupID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        audit: @Sendable (GroupRecord) -> AuditEvent) async throws -> Bool
}
