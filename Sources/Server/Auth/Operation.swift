/// Everything a caller can ask for, as the authorizer sees it.
enum Operation: String, Sendable, CaseIterable {
    // users, groups of users, tokens
    case createUser, listUsers, updateUser, deleteUser, manageUserGroups, createToken, revokeToken
    // resources and accounts
    case createResource, listResources, readResource, updateResource, deleteResource
    case createAccount, readAccount, updateAccount, deleteAccount
    case retrievePassword, changePassword
    case share, transferOwnership
    // resource groups
    case createGroup, readGroup, updateGroup, deleteGroup
    // administration
    case readAudit, managePolicies, readPolicies, manageResourceTypes, readResourceTypes, manageSettings, importCSV, readCluster
    // listeners and custom plugins (dual control)
    case manageListeners, approveListener
    // access control: policies, requests, approvals, forced check-in
    case configureAccessControl, requestAccess, decideAccess, forceCheckin
    // backups and the audit trail's life cycle: super-administrators only
    case manageBackups

    /// The share level an object-scoped operation needs; nil for operations with no object.
    var requiredPermission: Permission? {
        switch self {
        case .readResource, .readAccount, .retrievePassword, .readGroup, .requestAccess: .view
        case .changePassword: .modify
        case .updateResource, .deleteResource, .createAccount, .updateAccount, .deleteAccount,
            .share, .updateGroup, .deleteGroup:
            .manage
        case .transferOwnership, .configureAccessControl, .forceCheckin: .manage
        default: nil
        }
    }
}
