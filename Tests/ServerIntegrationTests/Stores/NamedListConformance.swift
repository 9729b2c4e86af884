import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// The lists paged in SQL by a name (groups, users, user groups, agents) give, however they are
/// cut, exactly the rows and order of the whole list each backend keeps (visibility decided per
/// object by `Access`), with the same entries; prefixes in any case, filters, and equal host names.
@Suite struct NamedListConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let names = ["Web-a", "web_b", "webXb", "db1", "DB2", "app%x", "appy", "mail", "zeta", "Alpha", "b", "B-2", "ß", "Émile"]
    static func principal(_ id: String, _ name: String, superAdmin: Bool = false) -> Principal {
        Principal(userID: id, username: name, role: .passwordAdministrator, superAdmin: superAdmin, mustChangePassword: false, tokenID: "t")
    }

    /// A name with ASCII letters folded: a prefix ignores their case only, in both stores (LIKE, ILIKE in "C").
    static func ascii(_ s: String) -> String { String(s.map { $0.isASCII ? Character($0.lowercased()) : $0 }) }

    /// Every page of `size`, each fetched after the last one's cursor (through its token).
    static func walk<T>(_ size: Int, _ fetch: (PageRequest) async throws -> Page<T>) async throws -> [T] {
        var out: [T] = []
        var req = PageRequest(limit: size)
        for _ in 0..<200 {
            let page = try await fetch(req)
            #expect(page.items.count <= size)
            out += page.items
            guard let next = page.next else { return out }
            #expect(page.items.count == size, "only the last page is short")
            req.after = PageCursor(token: next.token)
        }
        Issue.record("paging did not end")
        return out
    }

    @Test(arguments: StoreBackend.names("groups"))
    func groupsPageAsAccessDecidesForEveryCaller(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (id, n) in [("u-root", "root"), ("u-ana", "ana"), ("u-bo", "bo"), ("u-cy", "cy")] { try await b.addUser(id, n) }
        try await b.userGroups.create(id: "ug-ops", name: "ops", members: ["bo", "cy"], audit: AuditEvent(user: "t", ip: "t", operation: "t"))
        let root = Self.principal("u-root", "root", superAdmin: true)
        let rids = [try await b.ownResource("u-ana"), try await b.ownResource("u-ana")]
        var rng = SeededRandom(seed: 7)
        let owners = ["u-ana", "u-bo", "u-cy"]
        for (i, n) in (Self.names + (0..<16).map { "Team\($0 % 2 == 0 ? "-" : "")\($0)" }).enumerated() {
            let g = GroupRecord(id: "g\(i)", name: n, ownerId: owners[rng.next(3)], passwordPolicy: nil, createdAt: Self.t0)
            _ = try await b.groups.create(g, resourceIds: rng.next(3) == 0 ? rids : [], by: root, check: { _, _, _ in },
                audit: AuditEvent(user: "t", ip: "t", operation: "create_group"))
            // Shares to users and to a user group, of any permission: a user's own share wins over its groups'.
            let levels = Permission.allCases
            var list = ShareList()
            if rng.next(4) == 0 { list.users.append(.init(username: "bo", permission: levels[rng.next(levels.count)])) }
            if rng.next(3) == 0 { list.userGroups.append(.init(name: "ops", permission: levels[rng.next(levels.count)])) }
            if rng.next(5) == 0 { list.users.append(.init(username: "ana", permission: levels[rng.next(levels.count)])) }
            if rng.next(5) == 0 { list.users.append(.init(username: "cy", permission: .view)) }
            _ = try await b.shares.replace(.group(g.id), with: list, by: root, authorize: { _ in }, rule: { _, _ in },
                audit: { _ in AuditEvent(user: "t", ip: "t", operation: "share") })
        }
        for p in [root, Self.principal("u-ana", "ana"), Self.principal("u-bo", "bo"), Self.principal("u-cy", "cy"), Self.principal("u-none", "x")] {
            let listed = try await b.groups.groups(visibleTo: p)
            let whole = listed.map(\.entry)
            // Each group's permission as the list gives it, and as the one-group read decides it (`Access.onGroup`).
            let permissions = Dictionary(uniqueKeysWithValues: listed.map { ($0.entry.group.id, $0.permission) })
            for i in 0..<(Self.names.count + 16) {
                let one = try await b.groups.group("g\(i)", visibleTo: p)?.permission
                #expect(permissions["g\(i)"] == one, "\(p.username) on g\(i)")
            }
            for size in [1, 4, 7, 100] {
                #expect(try await Self.walk(size) { try await b.groups.groups(named: nil, $0, visibleTo: p) } == whole, "\(p.username), \(size)")
            }
            for prefix in ["WEB", "team-", "b", "app%", "nothing"] {
                let kept = whole.filter { Self.ascii($0.group.name).hasPrefix(Self.ascii(prefix)) }
                #expect(try await Self.walk(2) { try await b.groups.groups(named: prefix, $0, visibleTo: p) } == kept, "\(p.username) \(prefix)")
            }
        }
    }

    @Test(arguments: StoreBackend.names("users"))
    func usersPageByNameAndRole(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (i, n) in Self.names.enumerated() {
            try await b.addUser("u\(i)", n.replacingOccurrences(of: "%", with: "-"))
            if i % 3 == 0 { try await b.setRole("u\(i)", .passwordAuditor) }
        }
        let whole = try await b.users.users()
        for size in [1, 5, 100] { #expect(try await Self.walk(size) { try await b.users.users(named: nil, role: nil, $0) }.map(\.id) == whole.map(\.id)) }
        let auditors = whole.filter { $0.role == .passwordAuditor }
        #expect(!auditors.isEmpty && auditors.count < whole.count)
        #expect(try await Self.walk(2) { try await b.users.users(named: nil, role: .passwordAuditor, $0) }.map(\.id) == auditors.map(\.id))
        #expect(try await Self.walk(1) { try await b.users.users(named: "WEB", role: nil, $0) }.map(\.username).sorted() == ["Web-a", "webXb", "web_b"])
        #expect(try await Self.walk(1) { try await b.users.users(named: "web_", role: nil, $0) }.map(\.username) == ["web_b"], "_ is literal")
    }

    @Test(arguments: StoreBackend.names("userGroups"))
    func userGroupsPageWithTheirMembers(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (id, n) in [("u-ana", "ana"), ("u-bo", "Bo"), ("u-cy", "cy")] { try await b.addUser(id, n) }
        for (i, n) in Self.names.enumerated() {
            let members = ["ana", "Bo", "cy"].enumerated().filter { (i >> $0.offset) & 1 == 1 }.map(\.element)
            try await b.userGroups.create(id: "ug\(i)", name: n, members: members.reversed(), audit: AuditEvent(user: "t", ip: "t", operation: "t"))
        }
        for member in [nil, "u-ana", "u-bo", "u-none"] {
            let whole = try await b.userGroups.groups(memberOf: member)
            for size in [1, 3, 100] {
                #expect(try await Self.walk(size) { try await b.userGroups.groups(memberOf: member, named: nil, $0) } == whole, "\(member ?? "all")")
            }
        }
        #expect(try await Self.walk(2) { try await b.userGroups.groups(memberOf: nil, named: "DB", $0) }.map(\.name).sorted() == ["DB2", "db1"])
    }

    @Test(arguments: StoreBackend.names("agentBindings"))
    func agentsPageByHostWithWhatTheyServe(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let hosts = ["web01", "web01", "db1", "web01", "mail", "app", "db1", "zeta", "alpha", "web02"]
        for (i, h) in hosts.enumerated() {
            var a = StoreBackend.agent("a\(i)", host: h, at: Self.t0.addingTimeInterval(Double(i * 100)), revoked: i == 3 ? Self.t0 : nil)
            a.lastSeenAt = Self.t0.addingTimeInterval(Double(i * 100)).seconds
            try await b.addAgent(a)
        }
        for h in ["web01", "db1", "web01"] { try await b.agentMode(try await b.ownResource("u-ana"), h) }
        try await b.bind("a0", try await b.ownResource("u-ana"))
        let all = try await b.agents.agents()
        let cut = Self.t0.addingTimeInterval(450)
        func status(_ a: AgentRecord) -> AgentFilter.Status { a.revokedAt != nil ? .revoked : a.lastSeenAt < cut.seconds ? .offline : .online }
        let whole = all.sorted { ($0.hostname, $0.id) < ($1.hostname, $1.id) }
        for size in [1, 2, 3, 100] {
            #expect(try await Self.walk(size) { try await b.agents.agents(AgentFilter(), offlineBefore: cut, $0) }.map(\.id) == whole.map(\.id))
        }
        for s in AgentFilter.Status.allCases {
            let got = try await Self.walk(2) { try await b.agents.agents(AgentFilter(status: s), offlineBefore: cut, $0) }
            #expect(got.map(\.id) == whole.filter { status($0) == s }.map(\.id) && !got.isEmpty, "\(s)")
        }
        #expect(try await Self.walk(1) { try await b.agents.agents(AgentFilter(hostPrefix: "WEB0"), offlineBefore: cut, $0) }.map(\.id)
            == ["a0", "a1", "a3", "a9"])
        let serving = try await b.agentBindings.serving(all)
        for a in all {
            let one = AgentServes(bound: try await b.agentBindings.bindings(of: a.id), pending: try await b.agentBindings.pendingBindings(of: a))
            #expect(serving[a.id] == one, "\(a.id) on \(a.hostname)")
        }
        #expect(serving["a1"]?.pending.count == 2 && serving["a3"]?.pending == [] && serving["a0"]?.bound.count == 1)
        #expect(try await b.agentBindings.serving([]).isEmpty)
    }
}

/// A small deterministic generator, so that a failing case is the same on every run.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 | 1 }

    mutating func next(_ bound: Int) -> Int {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return Int(state % UInt64(bound))
    }
}
