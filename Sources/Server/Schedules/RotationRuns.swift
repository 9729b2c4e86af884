import Foundation
import Shared

/// Group rotations: a run queues one reset per account of the group's resources that has remote
/// reset, skipping (and reporting) accounts already in a reset or that the target cannot take.
/// Scheduled runs start once per occurrence, however many a downtime missed, and only within
/// their allowed hours; each schedule's pre- and post-notices go out once.
struct RotationRuns: Sendable {
    let store: any RunStore
    let groups: any GroupStore
    let authorizer: Authorizer
    let targets: ResetTargets
    let signal: TaskSignal
    let now: @Sendable () -> Date

    /// "Run now" (manage on the group); a group without a schedule rotates with unique passwords.
    func runNow(_ groupID: String, by p: Principal) async throws -> RotationRunRecord {
        // The store decides on the group as stored: not visible is 404, then the role and permission.
        let at = now()
        let run = try await store.startRotation(of: groupID, trigger: "manual", by: p.username, at: at, ranAt: nil, caller: p,
            authorize: authorizer.on(p, .updateGroup), due: { _ in true },
            plan: { [targets] g, config, resources in
                try Self.plan(g, config ?? RotationConfig(schedule: RotationSchedule(kind: .never, at: "00:00"), passwordChoice: .unique),
                    resources, by: p.username, at: at, targets: targets)
            },
            audit: Self.audit)
        guard let run else { throw DomainError.notFound("group") }
        signal.poke()
        return run
    }

    /// The scheduler's tick: starts every rotation that is due; returns the runs started.
    @discardableResult
    func runDue() async throws -> [String] {
        let at = now()
        var started: [String] = []
        for g in try await store.scheduledGroups() {
            do {
                let run = try await store.startRotation(of: g.id, trigger: "schedule", by: "schedule", at: at, ranAt: at, caller: nil,
                    authorize: { _ in },
                    due: { saved in
                        guard let saved, let next = saved.nextRunAt else { return false }
                        return next <= at && saved.config.schedule.allows(at)
                    },
                    plan: { [targets] g, config, resources in
                        guard let config else { return [] }
                        return try Self.plan(g, config, resources, by: "schedule", at: at, targets: targets)
                    },
                    audit: Self.audit)
                if let run { started.append(run.id) }
            } catch {
                try await store.rotationFailed(g.id, at: at, audit: AuditEvent(user: "schedule", ip: "server", operation: "rotation_run",
                    outcome: "failure", message: "group \(g.name): \(ResetEngine.describe(error))"))
            }
        }
        if !started.isEmpty { signal.poke() }
        return started
    }

    func run(_ id: String, by p: Principal) async throws -> RotationRunView {
        guard let view = try await store.rotationRun(id, visibleTo: p, authorize: authorizer.on(p, .readGroup)) else {
            throw DomainError.notFound("rotation run")
        }
        return view
    }

    /// Runs of the groups the caller may read (or of one of them), newest first.
    func list(group groupID: String? = nil, trigger: String? = nil, _ req: PageRequest, by p: Principal) async throws -> Page<RunListItem> {
        try RunListQuery.check(req)
        var readable: [String]? = nil
        if let groupID {
            guard let (_, have) = try await groups.group(groupID, visibleTo: p) else { throw DomainError.notFound("group") }
            try authorizer.on(p, .readGroup)(have)
            readable = [groupID]
        } else if !p.superAdmin {
            readable = try await groups.groups(visibleTo: p).filter { (try? authorizer.on(p, .readGroup)($0.permission)) != nil }.map(\.entry.group.id)
        }
        return try await store.runs(.rotation, groups: readable, trigger: trigger, req, visibleTo: p)
    }

    static func audit(_ g: GroupRecord, _ run: RotationRunRecord) -> AuditEvent {
        let queued = run.entries.filter { $0.taskId != nil }.count
        return AuditEvent(user: run.requestedBy, ip: "server", operation: "rotation_run",
            message: "group \(g.name), run \(run.id) (\(run.trigger)): \(queued) resets queued, \(run.entries.count - queued) skipped")
    }
}
