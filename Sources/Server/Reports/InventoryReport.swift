import Foundation

/// What the vault holds that the caller sees: resources, accounts, types and owners, with each
/// account's policy, state and reach.
struct InventoryReport: Codable, Sendable {
    struct Summary: Codable, Sendable {
        var resources, accounts, resourceTypes, owners: Int
        /// Accounts whose password the vault knows.
        var passwordsKnown: Int
        /// Accounts whose resource has a remote reset set up.
        var resetConfigured: Int
    }
    /// Resources and accounts of one type, or of one owner.
    struct Tally: Codable, Sendable {
        var name: String
        var resources, accounts: Int
    }
    struct Row: Codable, Sendable {
        var resourceId, resource, resourceType, owner, accountId, account, policy: String
        var syncStatus: String
        var passwordKnown, resetConfigured: Bool
        var changedAt, lastVerifiedAt, lastResetAt: Date?
        var sharedWith: Int
    }

    var generatedAt: Date
    var summary: Summary
    var byType: [Tally]
    var byOwner: [Tally]
    var accounts: [Row]

    init(_ facts: [AccountFacts], at now: Date) {
        generatedAt = now
        accounts = facts.map {
            Row(resourceId: $0.resourceId, resource: $0.resource, resourceType: $0.resourceType, owner: $0.owner, accountId: $0.accountId,
                account: $0.account, policy: $0.policy, syncStatus: $0.syncStatus.rawValue, passwordKnown: $0.passwordKnown,
                resetConfigured: $0.resetConfigured, changedAt: $0.changedAt, lastVerifiedAt: $0.lastVerifiedAt, lastResetAt: $0.lastResetAt,
                sharedWith: $0.sharedWith)
        }
        byType = Self.tally(facts, by: \.resourceType)
        byOwner = Self.tally(facts, by: \.owner)
        summary = Summary(resources: Set(facts.map(\.resourceId)).count, accounts: facts.count, resourceTypes: byType.count, owners: byOwner.count,
            passwordsKnown: facts.filter(\.passwordKnown).count, resetConfigured: facts.filter(\.resetConfigured).count)
    }

    /// Most accounts first, then by name. A resource with no account the caller sees is not counted.
    static func tally(_ facts: [AccountFacts], by key: KeyPath<AccountFacts, String>) -> [Tally] {
        var resources: [String: Set<String>] = [:]
        var accounts: [String: Int] = [:]
        for f in facts {
            resources[f[keyPath: key], default: []].insert(f.resourceId)
            accounts[f[keyPath: key], default: 0] += 1
        }
        return accounts.map { Tally(name: $0.key, resources: resources[$0.key]?.count ?? 0, accounts: $0.value) }
            .sorted { ($1.accounts, $0.name) < ($0.accounts, $1.name) }
    }

    var csv: String {
        var out = ReportCSV(["resource", "resourceType", "owner", "account", "policy", "syncStatus", "passwordKnown", "resetConfigured",
            "changedAt", "lastVerifiedAt", "lastResetAt", "sharedWith"])
        for r in accounts {
            out.row([r.resource, r.resourceType, r.owner, r.account, r.policy, r.syncStatus, String(r.passwordKnown), String(r.resetConfigured),
                ReportCSV.stamp(r.changedAt), ReportCSV.stamp(r.lastVerifiedAt), ReportCSV.stamp(r.lastResetAt), String(r.sharedWith)])
        }
        return out.text
    }
}
