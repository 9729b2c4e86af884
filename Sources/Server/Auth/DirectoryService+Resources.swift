import Foundation
import ResetPlugins
import Shared

extension DirectoryService {
    /// The resource type an `operatingSystem` value names.
    static func resourceType(_ os: String?) -> String {
        let s = (os ?? "").lowercased()
        if s.contains("windows") { return "Windows" }
        if ["linux", "ubuntu", "debian", "red hat", "rhel", "centos", "suse", "fedora", "rocky", "alma"].contains(where: s.contains) { return "Linux" }
        if s.contains("mac os") || s.contains("macos") { return "Mac OS" }
        if s.contains("solaris") { return "Solaris" }
        return "Generic"
    }

    /// Computers become resources (named by their DNS name; a disabled one, or a name taken, is not
    /// imported); OUs become resource groups, which later imports add to. A group of the same name
    /// that no import made is left alone.
    func importResources(_ b: DirectoryImportResourcesBody, with s: DirectoryImportServices, removals: Bool = false, by p: Principal, ip: String)
        async throws -> DirectoryResourcesReport
    {
        try authorizer.check(p, .createResource)
        try b.validate()
        guard let stored = try await store.directory() else { return DirectoryResourcesReport(ok: false, error: "no directory is configured") }
        for dn in [b.base, b.accountsBase].compactMap({ $0 }) where !dn.lowercased().hasSuffix(stored.body.baseDN.lowercased()) {
            throw DomainError.invalid("invalid_field", "\(dn) is not under the directory's baseDN \(stored.body.baseDN)")
        }
        var domain: ResourceRecord?
        if let id = b.domainResource { domain = try await domainResource(id, with: s, by: p) }
        var report = DirectoryResourcesReport()
        if let base = b.base {
            let computers: [DirectoryLogin.Computer]
            do { computers = try await DirectoryLogin(try config(stored)).computers(under: base) } catch let f as DirectoryLogin.Failure {
                return DirectoryResourcesReport(ok: false, error: f.message)
            }
            await importComputers(computers, under: base, groupByOU: b.groupByOU ?? true, removals: removals, &report, resources: s.resources,
                groups: s.groups, by: p, ip: ip)
        }
        if let base = b.accountsBase, let domain, report.ok {
            let people: DirectoryLogin.People
            // Domain accounts are named by sAMAccountName, whatever attribute users sign in with.
            do {
                var c = try config(stored)
                c.userAttribute = "sAMAccountName"
                people = try await DirectoryLogin(c).people(inGroups: [], under: [base], mapped: [])
            } catch let f as DirectoryLogin.Failure {
                (report.ok, report.error) = (false, f.message)
                return try await summarized(report, b, by: p, ip: ip)
            }
            do {
                report.accounts = try await importAccounts(people.people, under: base, into: domain, with: s,
                    removals: removals && people.unnamed.isEmpty, by: p, ip: ip)
            } catch { (report.ok, report.error) = (false, "the accounts' import stopped: \(error)") }
        }
        return try await summarized(report, b, by: p, ip: ip)
    }

    private func summarized(_ report: DirectoryResourcesReport, _ b: DirectoryImportResourcesBody, by p: Principal, ip: String) async throws
        -> DirectoryResourcesReport
    {
        let accounts = report.accounts.map { "; accounts: \($0.created.count) created, \($0.existing.count) existing, \($0.skipped.count) skipped" }
        try await summarize("directory_import_resources", ok: report.ok, error: report.error, by: p, ip: ip,
            "\(b.base ?? b.accountsBase ?? ""): \(report.created.count) created, \(report.existing.count) existing, \(report.skipped.count) skipped, "
                + "\(report.groups.count) group(s)" + (report.gone.isEmpty ? "" : ", \(report.gone.count) gone from the directory") + (accounts ?? ""))
        return report
    }

    private func importComputers(_ computers: [DirectoryLogin.Computer], under base: String, groupByOU: Bool, removals: Bool,
        _ report: inout DirectoryResourcesReport, resources: ResourceService, groups: GroupService, by p: Principal, ip: String) async
    {
        var byOU: [String: [String]] = [:]
        var found: Set<String> = []
        do {
            let visible = try await resources.resources(by: p)
            let byName = Dictionary(visible.map { ($0.resource.name.lowercased(), $0.resource) }, uniquingKeysWith: { a, _ in a })
            for c in computers {
                let name = (c.dnsName ?? c.name).lowercased()
                if let r = byName[name] { found.insert(r.id) }
                guard !c.disabled else {
                    report.skipped.append(.init(name: name, reason: "disabled in the directory"))
                    continue
                }
                if let r = byName[name] {
                    report.existing.append(name)
                    byOU[c.parent, default: []].append(r.id)
                    continue
                }
                do {
                    let r = try await resources.create(ResourceBody(name: name, dnsName: c.dnsName ?? c.name, type: Self.resourceType(c.operatingSystem),
                        description: c.operatingSystem.map { "\($0) (from the directory: \(Self.short(c.dn)))" } ?? "from the directory: \(Self.short(c.dn))"),
                        by: p, ip: ip)
                    try await store.markImported(.computers, [r.id: c.dn])
                    found.insert(r.id)
                    report.created.append(name)
                    byOU[c.parent, default: []].append(r.id)
                } catch let e as DomainError {
                    report.skipped.append(.init(name: name, reason: e.message))
                }
            }
            if groupByOU {
                try await groupResources(byOU, groups: groups, &report, by: p, ip: ip)
            }
            if removals {
                try await computersGone(found, dns: Set(computers.map { Self.normalized($0.dn) }), under: base, byID: visible, &report, by: p, ip: ip)
            }
        } catch {
            (report.ok, report.error) = (false, "the import stopped: \(error)")
        }
    }

    private func groupResources(_ byOU: [String: [String]], groups: GroupService, _ report: inout DirectoryResourcesReport, by p: Principal,
        ip: String) async throws
    {
        var mine = try await store.importedGroups(.resources)
        let visible = try await groups.groups(visibleTo: p)
        for (ou, ids) in byOU.sorted(by: { $0.key < $1.key }) where ou.lowercased().hasPrefix("ou=") {
            let name = String(ou.split(separator: ",", maxSplits: 1)[0].dropFirst(3))
            do {
                if let g = visible.first(where: { $0.group.name.lowercased() == name.lowercased() }) {
                    guard mine[g.group.id] != nil else {
                        report.skipped.append(.init(name: name, reason: "a resource group of this name exists that no import made; it is left alone"))
                        continue
                    }
                    let all = Array(Set(g.resourceIds + ids)).sorted()
                    _ = try await groups.setResources(g.group.id, all, by: p, ip: ip)
                    report.groups.append(.init(name: name, members: all, created: false))
                } else {
                    let g = try await groups.create(GroupBody(name: name, resourceIds: ids), by: p, ip: ip)
                    try await store.markImported(.resources, groupID: g.group.id, dn: ou)
                    mine[g.group.id] = ou
                    report.groups.append(.init(name: name, members: g.resourceIds, created: true))
                }
            } catch let e as DomainError {
                report.skipped.append(.init(name: name, reason: e.message))
            }
        }
    }

    /// A sync: the resources an import made from under `base` whose computer is no longer listed
    /// (by DN, nor by the resource found by name) are reported and audited once, marked gone, and
    /// kept (resources have no disabled state); one whose computer comes back is tracked again.
    private func computersGone(_ found: Set<String>, dns: Set<String>, under base: String, byID visible: [ResourceEntry],
        _ report: inout DirectoryResourcesReport, by p: Principal, ip: String) async throws
    {
        let suffix = "," + Self.normalized(base)
        let names = Dictionary(visible.map { ($0.resource.id, $0.resource.name) }, uniquingKeysWith: { a, _ in a })
        var changes: [String: String] = [:]
        for (id, value) in try await store.importedGroups(.computers) {
            let wasGone = value.hasPrefix(Self.gonePrefix)
            let dn = wasGone ? String(value.dropFirst(Self.gonePrefix.count)) : value
            guard Self.normalized(dn).hasSuffix(suffix) else { continue }
            let present = found.contains(id) || dns.contains(Self.normalized(dn))
            if present && wasGone { changes[id] = dn }
            guard !present, !wasGone else { continue }
            changes[id] = Self.gonePrefix + dn
            guard let name = names[id] else { continue }
            try await audit.append(AuditEvent(user: p.username, ip: ip, operation: "directory_resource_gone", resource: name,
                message: "the directory no longer lists \(Self.short(dn)); the resource is kept", resourceId: id))
            report.gone.append(name)
        }
        try await store.markImported(.computers, changes)
    }

    static let gonePrefix = "gone:"
}
