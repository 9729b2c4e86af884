import Foundation

/// Who a share reaches: users named one by one and the members of groups of users, on the
/// account, its resource or a group holding the resource. The owner is not counted.
struct ShareReach {
    private var onAccount: [String: Set<String>] = [:]
    private var onResource: [String: Set<String>] = [:]
    private var onGroup: [String: Set<String>] = [:]
    private let groupsOfResource: [String: [String]]
    private var cache: [String: Set<String>] = [:]

    init(_ inputs: ReportInputs) {
        groupsOfResource = inputs.groupsOfResource
        for s in inputs.shares {
            let users: [String] = s.principalKind == "userGroup" ? inputs.membersOfUserGroup[s.principalId] ?? [] : [s.principalId]
            switch s.objectKind {
            case "account": onAccount[s.objectId, default: []].formUnion(users)
            case "resource": onResource[s.objectId, default: []].formUnion(users)
            case "group": onGroup[s.objectId, default: []].formUnion(users)
            default: continue
            }
        }
    }

    /// The users (ids) that reach `account` through a share.
    mutating func users(of account: AccountRecord, resource: ResourceRecord) -> Set<String> {
        var users = resourceUsers(resource.id)
        users.formUnion(onAccount[account.id] ?? [])
        users.remove(resource.ownerId)
        return users
    }

    private mutating func resourceUsers(_ id: String) -> Set<String> {
        if let known = cache[id] { return known }
        var users = onResource[id] ?? []
        for g in groupsOfResource[id] ?? [] { users.formUnion(onGroup[g] ?? []) }
        cache[id] = users
        return users
    }
}
