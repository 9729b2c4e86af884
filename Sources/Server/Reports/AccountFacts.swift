import Foundation
import Shared

/// One account as the inventory and compliance reports see it. Never a password: the current one
/// is opened only to test it against its policy, and only the rules it breaks are kept.
struct AccountFacts: Sendable {
    var resourceId, resource, resourceType, owner, accountId, account, policy: String
    var maxAgeDays: Int?
    var createdAt: Date
    /// When the current password was set; nil when none is known yet.
    var changedAt: Date?
    /// The last remote reset of the account that succeeded.
    var lastResetAt: Date?
    var syncStatus: SyncStatus
    var lastVerifiedAt: Date?
    /// The rules of its policy the current password breaks (never the password).
    var violations: [String]
    /// Users other than the resource's owner a share reaches (one by one or through a group of users).
    var sharedWith: Int
    /// A remote reset is set up for its resource.
    var resetConfigured: Bool
    /// An access-control policy covers it (on the account, its resource or a group of it).
    var accessControlled = false

    var passwordKnown: Bool { changedAt != nil }

    func expired(at now: Date) -> Bool {
        guard let days = maxAgeDays, days > 0, let changed = changedAt else { return false }
        return now.timeIntervalSince(changed) > Double(days) * 86400
    }
}

/// What the store reads, in bulk, for `AccountFacts`: the same few statements on both stores, so
/// a report costs a handful of queries whatever the number of accounts.
struct ReportInputs: Sendable {
    struct Sealed: Sendable {
        var secretId: String
        var sealed: Data
        var createdAt: Date
    }
    struct Share: Sendable {
        var objectKind, objectId, principalKind, principalId: String
    }

    var resources: [ResourceRecord] = []
    var accounts: [AccountRecord] = []
    var usernames: [String: String] = [:]
    /// Policy names by resource, from its groups (first by group name).
    var groupPolicy: [String: String] = [:]
    var policies: [String: PasswordPolicy] = [:]
    var defaultPolicy = PasswordPolicy.strong.name
    /// The current password of each account, sealed.
    var current: [String: Sealed] = [:]
    var lastReset: [String: Date] = [:]
    var resetConfigured: Set<String> = []
    var shares: [Share] = []
    var groupsOfResource: [String: [String]] = [:]
    var membersOfUserGroup: [String: [String]] = [:]
    /// `scope:scopeId` of each access-control policy.
    var accessControlled: Set<String> = []

    /// The facts of the accounts `scope` sees, by resource then account name. With `rules`, `open`
    /// unseals each current password; one that fails to open counts as a violation, never as compliant.
    func facts(_ scope: ListScope, rules: Bool, open: (String, String, Data) throws -> Secret) -> [AccountFacts] {
        let byId = Dictionary(resources.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var reach = ShareReach(self)
        var out: [AccountFacts] = []
        for a in accounts {
            guard let r = byId[a.resourceId], scope.sees(resourceId: r.id, accountId: a.id) else { continue }
            let name = r.passwordPolicy ?? groupPolicy[r.id] ?? defaultPolicy
            let policy = policies[name]
            var violations: [String] = []
            var changed: Date? = nil
            if let s = current[a.id] {
                changed = a.lastChangedAt ?? s.createdAt
                if !rules {
                    violations = []
                } else if let policy {
                    do {
                        violations = policy.violations(of: try open(s.secretId, a.id, s.sealed), loginName: a.loginName)
                    } catch {
                        violations = ["the stored password could not be opened"]
                    }
                } else {
                    violations = ["its policy '\(name)' could not be read"]
                }
            }
            out.append(AccountFacts(resourceId: r.id, resource: r.name, resourceType: r.type, owner: usernames[r.ownerId] ?? "(deleted user)",
                accountId: a.id, account: a.loginName, policy: name, maxAgeDays: policy?.maxAgeDays, createdAt: a.createdAt,
                changedAt: changed, lastResetAt: lastReset[a.id], syncStatus: a.syncStatus, lastVerifiedAt: a.lastVerifiedAt,
                violations: violations, sharedWith: reach.users(of: a, resource: r).count, resetConfigured: resetConfigured.contains(r.id),
                accessControlled: accessControlled.contains("account:\(a.id)") || accessControlled.contains("resource:\(r.id)")
                    || (groupsOfResource[r.id] ?? []).contains { accessControlled.contains("group:\($0)") }))
        }
        return out.sorted { ($0.resource, $0.account, $0.accountId) < ($1.resource, $1.account, $1.accountId) }
    }
}
