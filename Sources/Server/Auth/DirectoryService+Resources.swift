import Foundation
import ResetPlugins
import Shared

/// The body of `POST /directory/import/resources`: computer objects under `base` become resources
/// owned by the caller; with `groupByOU` (default true) each OU becomes a resource group.
struct DirectoryImportResourcesBody: Codable, Sendable, APIBody {
    var base: String
    var groupByOU: Bool?

    static let fields = ["base", "groupByOU"]
    static let required = ["base"]

    func validate() throws {
        guard base.contains("="), base.count <= 1024, !base.contains("\0") else {
            throw DomainError.invalid("invalid_field", "base is a distinguished name (OU=Servers,DC=example,DC=com)")
        }
    }
}

/// What a resources' import did. `ok` false: the directory could not be read; nothing changed.
struct DirectoryResourcesReport: Codable, Sendable {
    var ok = true
    var error: String?
    var created: [String] = []
    var existing: [String] = []
    var skipped: [DirectoryImportReport.Skipped] = []
    var groups: [DirectoryImportReport.ImportedGroup] = []
}

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
    func importResources(_ b: DirectoryImportResourcesBody, resources: ResourceService, groups: GroupService, by p: Principal, ip: String)
        async throws -> DirectoryResourcesReport
    {
        try authorizer.check(p, .createResource)
        try b.validate()
        guard let stored = try await store.directory() else { return DirectoryResourcesReport(ok: false, error: "no directory is configured") }
        guard b.base.lowercased().hasSuffix(stored.body.baseDN.lowercased()) else {
            throw DomainError.invalid("invalid_field", "\(b.base) is not under the directory's baseDN \(stored.body.baseDN)")
        }
        let computers: [DirectoryLogin.Computer]
        do { computers = try await DirectoryLogin(try config(stored)).computers(under: b.base) } catch let f as DirectoryLogin.Failure {
            return DirectoryResourcesReport(ok: false, error: f.message)
        }
        var report = DirectoryResourcesReport()
        var byOU: [String: [String]] = [:]
        do {
            let visible = try await resources.resources(by: p)
            for c in computers {
                let name = (c.dnsName ?? c.name).lowercased()
                guard !c.disabled else {
                    report.skipped.append(.init(name: name, reason: "disabled in the directory"))
                    continue
                }
                if let r = visible.first(where: { $0.resource.name.lowercased() == name }) {
                    report.existing.append(name)
                    byOU[c.parent, default: []].append(r.resource.id)
                    continue
                }
                do {
                    let r = try await resources.create(ResourceBody(name: name, dnsName: c.dnsName ?? c.name, type: Self.resourceType(c.operatingSystem),
                        description: c.operatingSystem.map { "\($0) (from the directory: \(c.dn))" } ?? "from the directory: \(c.dn)"), by: p, ip: ip)
                    report.created.append(name)
                    byOU[c.parent, default: []].append(r.id)
                } catch let e as DomainError {
                    report.skipped.append(.init(name: name, reason: e.message))
                }
            }
            if b.groupByOU ?? true {
                try await groupResources(byOU, groups: groups, &report, by: p, ip: ip)
            }
        } catch {
            (report.ok, report.error) = (false, "the import stopped: \(error)")
        }
        try await summarize("directory_import_resources", ok: report.ok, error: report.error, by: p, ip: ip,
            "\(b.base): \(report.created.count) created, \(report.existing.count) existing, \(report.skipped.count) skipped, \(report.groups.count) group(s)")
        return report
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
}
