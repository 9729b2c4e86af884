import Foundation
import ResetPlugins
import Shared

/// The body of `POST /directory/import/users`: the groups (their members, nested ones included)
/// and the bases (OUs) whose people become Custody users; each group also becomes a user group.
struct DirectoryImportUsersBody: Codable, Sendable, Equatable, APIBody {
    var groups: [String]?
    var bases: [String]?

    static let fields = ["groups", "bases"]

    init(groups: [String]? = nil, bases: [String]? = nil) { (self.groups, self.bases) = (groups, bases) }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fields)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        groups = try c.decodeIfPresent([String].self, forKey: .groups)
        bases = try c.decodeIfPresent([String].self, forKey: .bases)
    }

    func validate() throws {
        let all = (groups ?? []) + (bases ?? [])
        guard !all.isEmpty else { throw DomainError.invalid("missing_field", "give groups or bases (distinguished names)") }
        guard all.count <= 100 else { throw DomainError.invalid("invalid_field", "at most 100 groups and bases") }
        for dn in all where !dn.contains("=") || dn.count > 1024 || dn.contains("\0") {
            throw DomainError.invalid("invalid_field", "groups and bases are distinguished names (CN=Staff,OU=Groups,DC=example,DC=com)")
        }
    }
}

/// What an import did. `ok` false: the directory could not be read (`error` says why); nothing changed.
struct DirectoryImportReport: Codable, Sendable {
    struct Skipped: Codable, Sendable { var name: String; var reason: String }
    struct ImportedGroup: Codable, Sendable { var name: String; var members: [String]; var created: Bool }

    var ok = true
    var error: String?
    var created: [String] = []
    var updated: [String] = []
    var unchanged: [String] = []
    var skipped: [Skipped] = []
    var userGroups: [ImportedGroup] = []
    /// Users disabled: found disabled in the directory or in no mapped group, or (a sync's) made
    /// by an earlier sync and no longer given by its groups and bases.
    var disabled: [String] = []
    /// Why a sync disabled nobody for being gone (entries it could not name).
    var removalsSkipped: String?
}

/// The body of `POST /directory/import/resources`: computer objects under `base` become resources
/// owned by the caller; with `groupByOU` (default true) each OU becomes a resource group. Domain
/// user accounts under `accountsBase` become accounts of `domainResource` (the id of a `Windows
/// Domain` resource), their passwords unknown until their first reset.
struct DirectoryImportResourcesBody: Codable, Sendable, Equatable, APIBody {
    var base: String?
    var groupByOU: Bool?
    var accountsBase: String?
    var domainResource: String?

    static let fields = ["base", "groupByOU", "accountsBase", "domainResource"]

    init(base: String? = nil, groupByOU: Bool? = nil, accountsBase: String? = nil, domainResource: String? = nil) {
        (self.base, self.groupByOU, self.accountsBase, self.domainResource) = (base, groupByOU, accountsBase, domainResource)
    }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(Self.fields)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        base = try c.decodeIfPresent(String.self, forKey: .base)
        groupByOU = try c.decodeIfPresent(Bool.self, forKey: .groupByOU)
        accountsBase = try c.decodeIfPresent(String.self, forKey: .accountsBase)
        domainResource = try c.decodeIfPresent(String.self, forKey: .domainResource)
    }

    func validate() throws {
        guard base != nil || accountsBase != nil else {
            throw DomainError.invalid("missing_field", "give base (computers) or accountsBase with domainResource (domain accounts)")
        }
        for dn in [base, accountsBase].compactMap({ $0 }) where !dn.contains("=") || dn.count > 1024 || dn.contains("\0") {
            throw DomainError.invalid("invalid_field", "base and accountsBase are distinguished names (OU=Servers,DC=example,DC=com)")
        }
        guard (accountsBase == nil) == (domainResource == nil) else {
            throw DomainError.invalid("missing_field", "accountsBase and domainResource go together: the accounts under one, added to the other")
        }
        if let id = domainResource, id.isEmpty || id.count > 64 { throw DomainError.invalid("invalid_field", "domainResource is a resource id") }
    }
}

/// What a resources' import did. `ok` false: the directory could not be read; nothing changed.
struct DirectoryResourcesReport: Codable, Sendable {
    /// The domain accounts' part: `missing` is only a sync's (accounts gone from the directory).
    struct Accounts: Codable, Sendable {
        var created: [String] = []
        var existing: [String] = []
        var missing: [String] = []
        var skipped: [DirectoryImportReport.Skipped] = []
    }

    var ok = true
    var error: String?
    var created: [String] = []
    var existing: [String] = []
    var skipped: [DirectoryImportReport.Skipped] = []
    var groups: [DirectoryImportReport.ImportedGroup] = []
    var accounts: Accounts?
    /// A sync's: resources an import made whose computer the directory no longer lists (kept).
    var gone: [String] = []
}
