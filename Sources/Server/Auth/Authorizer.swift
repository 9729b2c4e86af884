/// The one place where access is decided. Two questions: may this role do this kind of thing
/// at all (`roleAllows`), and, for an object, does the caller hold the share level it needs.
struct Authorizer: Sendable {
    struct Denied: Error, Sendable { let reason: String }

    /// Role ceiling: what each role may ever do, whatever is shared with it.
    static func roleAllows(_ role: Role, _ op: Operation) -> Bool {
        switch op {
        case .createUser, .listUsers, .updateUser, .deleteUser, .manageUserGroups, .managePolicies,
            .manageResourceTypes, .manageSettings, .manageListeners, .approveListener, .readCluster, .manageBackups:
            return role == .administrator
        case .createResource, .createGroup, .importCSV:
            return role == .administrator || role == .passwordAdministrator
        case .transferOwnership, .configureAccessControl, .decideAccess, .forceCheckin:
            return role == .administrator || role == .passwordAdministrator
        case .readAudit:
            return role != .passwordUser
        case .retrievePassword, .changePassword, .requestAccess:
            // Auditors see metadata and audit, never a password (separation of duties).
            return role != .passwordAuditor
        case .createToken, .revokeToken, .listResources, .readResource, .readAccount, .readGroup,
            .readPolicies, .readResourceTypes:
            return true
        case .updateResource, .deleteResource, .createAccount, .updateAccount, .deleteAccount,
            .share, .updateGroup, .deleteGroup:
            return role != .passwordAuditor
        }
    }

    /// Dual control: approving a listener revision takes an administrator other than its author.
    /// `approver` is the approver's user record: one the author created, promoted or last reset is
    /// not a second person.
    func checkApproval(_ principal: Principal, author: String, approver: UserRecord?) throws(Denied) {
        try check(principal, .approveListener)
        guard principal.userID != author else {
            throw Denied(reason: "the author of a listener revision may not approve it; another administrator must")
        }
        if approver?.isBeholdenTo(author) ?? true {
            throw Denied(reason: "the author created, promoted or last reset this administrator's credentials; another administrator must approve")
        }
    }

    /// Decides `op` for `principal`; `effective` is the caller's share level on the object
    /// (owner and super-administrator count as manage), nil when it has none.
    func check(_ principal: Principal, _ op: Operation, effective: Permission? = nil, isObject: Bool = false)
        throws(Denied)
    {
        guard Self.roleAllows(principal.role, op) else {
            throw Denied(reason: "the \(principal.role.rawValue) role may not \(op.rawValue)")
        }
        if op == .manageBackups && !principal.superAdmin {
            throw Denied(reason: "only a super-administrator may manage backups and purge the audit trail")
        }
        guard isObject, let needed = op.requiredPermission else { return }
        guard let have = effective else { throw Denied(reason: "not shared with you") }
        guard have >= needed else { throw Denied(reason: "needs \(needed.rawValue) permission, you have \(have.rawValue)") }
    }
}

extension Authorizer {
    /// `op` on an object, decided on the caller's permission as a store reads it.
    func on(_ p: Principal, _ op: Operation) -> @Sendable (Permission) throws -> Void {
        { [self] have in try check(p, op, effective: have, isObject: true) }
    }
}
