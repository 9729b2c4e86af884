import Foundation

/// Sharing resources, groups and single accounts with users and user groups. Reading or
/// replacing an object's shares takes manage on it (`.share`). Nobody but a super-administrator
/// grants to themselves or to their own user groups: such a grant would outlive the access it was
/// made with; a grant they already hold may be sent back unchanged (a list read, edited and put
/// back). Manage is shared on resources and groups, never on a single account.
struct ShareService: Sendable {
    let store: any ShareStore
    let authorizer: Authorizer
    /// Resets the accounts whose rules ask for it when a share ends.
    var access: AccessControlService? = nil

    func shares(of target: ShareTarget, by p: Principal) async throws -> ShareList {
        guard let list = try await store.shares(of: target, by: p, authorize: authorizer.on(p, .share)) else { throw Self.notFound(target) }
        return list
    }

    func replace(_ target: ShareTarget, with list: ShareList, by p: Principal, ip: String) async throws {
        if case .account = target, list.users.contains(where: { $0.permission == .manage }) || list.userGroups.contains(where: { $0.permission == .manage }) {
            throw DomainError.invalid("invalid_permission", "manage can be shared on resources and groups, not on single accounts")
        }
        let before = try await store.shares(of: target, by: p, authorize: authorizer.on(p, .share))
        let outcome = try await store.replace(target, with: list, by: p, authorize: authorizer.on(p, .share), rule: Self.rule(list, p)) { o in
            let what = Self.describe(list)
            if let a = o.account, let r = o.resource {
                return AuditEvent(user: p.username, ip: ip, operation: "share", resource: r.name, account: a.loginName, message: what,
                    resourceId: r.id, accountId: a.id)
            }
            if let r = o.resource { return AuditEvent(user: p.username, ip: ip, operation: "share", resource: r.name, message: what, resourceId: r.id) }
            return AuditEvent(user: p.username, ip: ip, operation: "share", message: "group \(o.group?.name ?? ""): " + what)
        }
        switch outcome {
        case .replaced:
            guard let access, let before else { return }
            let ended = before.users.map(\.username).filter { u in !list.users.contains { $0.username.caseInsensitiveCompare(u) == .orderedSame } }
                + before.userGroups.map(\.name).filter { g in !list.userGroups.contains { $0.name.caseInsensitiveCompare(g) == .orderedSame } }
                .map { "group " + $0 }
            if !ended.isEmpty { await access.shareEnded(target, ended: ended, by: p, ip: ip) }
        case .notVisible: throw Self.notFound(target)
        case .unknownUser(let name): throw DomainError.invalid("unknown_user", "no user named '\(name)'")
        case .unknownUserGroup(let name): throw DomainError.invalid("unknown_user_group", "no user group named '\(name)'")
        }
    }

    private static func rule(_ list: ShareList, _ p: Principal) -> ShareRule {
        { held, mine in
            guard !p.superAdmin else { return }
            func holds(_ principal: String, _ permission: Permission) -> Bool {
                held.contains { $0.principalId == principal && $0.permission == permission }
            }
            if list.users.contains(where: { $0.username.lowercased() == p.username.lowercased() && !holds(p.userID, $0.permission) }) {
                throw DomainError.forbidden("you cannot share to yourself")
            }
            if list.userGroups.contains(where: { g in mine.contains { $0.name.lowercased() == g.name.lowercased() && !holds($0.id, g.permission) } }) {
                throw DomainError.forbidden("you cannot share to a user group you belong to")
            }
        }
    }

    private static func notFound(_ target: ShareTarget) -> DomainError {
        switch target {
        case .resource: DomainError.notFound("resource")
        case .group: DomainError.notFound("group")
        case .account: DomainError.notFound("account")
        }
    }

    static func describe(_ list: ShareList) -> String {
        let all = list.users.map { "\($0.username)=\($0.permission.rawValue)" } + list.userGroups.map { "group \($0.name)=\($0.permission.rawValue)" }
        return all.isEmpty ? "unshared" : all.joined(separator: ", ")
    }
}
