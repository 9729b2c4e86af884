import Foundation
import Logging

/// The access-control workflow (PMP's request, approve, check out, check in): policies on
/// accounts, resources and groups, and the life of each request. Authorization is decided here,
/// on facts each store transaction reads, so the API, the CLI and the console get one answer.
struct AccessControlService: Sendable {
    let store: any AccessStore
    let audit: AuditTrail
    let authorizer: Authorizer
    let targets: ResetTargets
    let now: @Sendable () -> Date
    /// Wakes `AccessDeadlines` when a new deadline is set.
    let deadlines: TaskSignal

    static let eligibleRoles: Set<Role> = [.administrator, .passwordAdministrator]

    func policy(on o: AccessObject, by p: Principal) async throws -> AccessPolicyView {
        try authorizer.check(p, .readAccount)
        guard case .found(let own, _) = try await store.policy(on: o, visibleTo: p, authorize: authorizer.on(p, .readResource)) else {
            throw DomainError.notFound(o.scope.rawValue)
        }
        if o.scope == .account, let rid = o.resourceId, let f = try await store.facts(account: o.id, of: rid, for: p) {
            var v = try await view(f.policy?.policy ?? own ?? AccessPolicy(enabled: false), setHere: f.policy?.scope == .account,
                inherited: f.policy.flatMap { $0.scope == .account ? nil : ($0.scope == .group ? "group \($0.scopeName)" : "resource") })
            v.holders = f.holders.map { .init(requestId: $0.id, user: $0.requester, until: $0.until) }
            v.waiting = f.live.filter { $0.state == .pending }.count
            v.attention = f.attention.map { r in
                "the reset after the check-in of request \(r.id) " + (r.resetProblem.map { "was not queued: \($0)" } ?? "(task \(r.resetTaskId ?? "")) did not succeed")
                    + "; the holder may still know the password: reset it"
            }
            return v
        }
        return try await view(own ?? AccessPolicy(enabled: false), setHere: own != nil, inherited: nil)
    }

    func setPolicy(_ b: AccessPolicyBody, on o: AccessObject, by p: Principal, ip: String) async throws -> AccessPolicyView {
        try authorizer.check(p, .configureAccessControl)
        let rules = try await resolve(b, scope: o.scope)
        let summary = "enabled \(rules.enabled), \(rules.approvalsRequired) approval(s), max \(rules.maxMinutes) min, exclusive \(rules.exclusive), "
            + "reset on check-in \(rules.resetOnCheckin), reset on share removal \(rules.resetOnShareRemoval)"
        guard try await store.setPolicy(rules, on: o, by: p, at: now(), authorize: authorizer.on(p, .configureAccessControl),
            audit: { name in
                AuditEvent(user: p.username, ip: ip, operation: "set_access_control", resource: o.scope == .group ? nil : name,
                    message: "\(o.scope.rawValue) \(name): \(summary)", resourceId: o.resourceId ?? (o.scope == .resource ? o.id : nil),
                    accountId: o.scope == .account ? o.id : nil)
            })
        else { throw DomainError.notFound(o.scope.rawValue) }
        return try await policy(on: o, by: p)
    }

    func clearPolicy(on o: AccessObject, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .configureAccessControl)
        guard try await store.setPolicy(nil, on: o, by: p, at: now(), authorize: authorizer.on(p, .configureAccessControl),
            audit: { name in
                AuditEvent(user: p.username, ip: ip, operation: "clear_access_control", resource: o.scope == .group ? nil : name,
                    message: "\(o.scope.rawValue) \(name): its own rules removed; it inherits again",
                    resourceId: o.resourceId ?? (o.scope == .resource ? o.id : nil), accountId: o.scope == .account ? o.id : nil)
            })
        else { throw DomainError.notFound(o.scope.rawValue) }
    }

    /// The body as stored rules: names to ids, approvers able to approve, enough of them.
    func resolve(_ b: AccessPolicyBody, scope: AccessScope) async throws -> AccessPolicy {
        var policy = AccessPolicy()
        policy.enabled = b.enabled ?? true
        policy.approvalsRequired = b.approvalsRequired ?? 1
        policy.maxMinutes = b.maxMinutes ?? AccessPolicy.defaultMaxMinutes
        policy.pendingMinutes = b.pendingMinutes ?? AccessPolicy.defaultPendingMinutes
        policy.exclusive = b.exclusive ?? true
        policy.resetOnCheckin = b.resetOnCheckin ?? false
        policy.requireTicket = b.requireTicket ?? false
        policy.resetOnShareRemoval = b.resetOnShareRemoval ?? false
        if policy.resetOnShareRemoval, scope == .account {
            throw DomainError.invalid("invalid_field", "resetOnShareRemoval is set on a resource or a group, not on one account")
        }
        if let a = b.autoApprove {
            policy.autoApprove = AutoApprove(always: a.always ?? false,
                windows: (a.windows ?? []).map { AutoApprove.Window(days: $0.days ?? [], from: $0.from, to: $0.to) }, timeZone: a.timeZone)
        }
        let approvers = b.approvers ?? .init(), exempt = b.exempt ?? .init()
        let found = try await store.people(users: (approvers.users ?? []) + (exempt.users ?? []),
            userGroups: (approvers.userGroups ?? []) + (exempt.userGroups ?? []))
        func ids(_ people: AccessPolicyBody.People) throws -> AccessPolicy.People {
            AccessPolicy.People(
                users: try (people.users ?? []).map { n in
                    guard let u = found.users[n] else { throw DomainError.invalid("unknown_user", "no user named '\(n)'") }
                    return u.id
                },
                userGroups: try (people.userGroups ?? []).map { n in
                    guard let g = found.groups[n] else { throw DomainError.invalid("unknown_user_group", "no user group named '\(n)'") }
                    return g.id
                })
        }
        policy.approvers = try ids(approvers)
        policy.exempt = try ids(exempt)
        for n in approvers.users ?? [] where !Self.eligibleRoles.contains(found.users[n]!.role) {
            throw DomainError.invalid("invalid_approver", "\(n) is a \(found.users[n]!.role.rawValue): approvers are administrators or password administrators")
        }
        let eligible = try await store.expand(policy.approvers).filter { Self.eligibleRoles.contains($0.role) }
        if policy.enabled, policy.autoApprove?.always != true {
            if eligible.count < policy.approvalsRequired {
                throw DomainError.invalid("not_enough_approvers",
                    "the rules need \(policy.approvalsRequired) approval(s) from distinct people, and name \(eligible.count) administrator(s) or password administrator(s)")
            }
            if policy.approvalsRequired == 2, !Self.independentPair(eligible) {
                throw DomainError.invalid("not_enough_approvers",
                    "two approvals must come from people who did not make, promote or reset one another, and no two of these approvers are such a pair")
            }
        }
        return policy
    }

    /// True when two of `people` did not make, promote or last reset one another.
    static func independentPair(_ people: [AccessPerson]) -> Bool {
        for (i, a) in people.enumerated() {
            for b in people[(i + 1)...] where !a.beholdenTo.contains(b.id) && !b.beholdenTo.contains(a.id) { return true }
        }
        return false
    }

    func view(_ policy: AccessPolicy, setHere: Bool, inherited: String?) async throws -> AccessPolicyView {
        let ids = (users: policy.approvers.users + policy.exempt.users, groups: policy.approvers.userGroups + policy.exempt.userGroups)
        let names = try await store.names(users: ids.users, userGroups: ids.groups)
        func people(_ p: AccessPolicy.People) -> AccessPolicyView.People {
            .init(users: p.users.compactMap { names.users[$0] }, userGroups: p.userGroups.compactMap { names.groups[$0] })
        }
        return AccessPolicyView(enabled: policy.enabled, approvers: people(policy.approvers), approvalsRequired: policy.approvalsRequired,
            maxMinutes: policy.maxMinutes, pendingMinutes: policy.pendingMinutes, exclusive: policy.exclusive, resetOnCheckin: policy.resetOnCheckin,
            autoApprove: policy.autoApprove, exempt: people(policy.exempt), requireTicket: policy.requireTicket,
            resetOnShareRemoval: policy.resetOnShareRemoval, setHere: setHere, inheritedFrom: inherited)
    }
}
