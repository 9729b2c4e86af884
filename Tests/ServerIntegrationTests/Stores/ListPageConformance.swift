import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's lists must do with a page: the same rows in the same order however they
/// are cut, the filters (a name prefix in any case, with `%` and `_` taken literally, a type, an
/// owner), and the visibility of the whole list on every page.
@Suite struct ListPageConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static func principal(_ id: String, _ name: String, superAdmin: Bool = false) -> Principal {
        Principal(userID: id, username: name, role: .passwordAdministrator, superAdmin: superAdmin, mustChangePassword: false, tokenID: "t")
    }
    static let root = principal("u-root", "root", superAdmin: true), ana = principal("u-ana", "ana"), bo = principal("u-bo", "bo")
    static let names = ["Web-a", "web_b", "webXb", "db1", "DB2", "app%x", "appy", "mail", "zeta", "Alpha"]

    static func resource(_ id: String, _ name: String, owner: String, type: String = "Linux") -> ResourceRecord {
        ResourceRecord(id: id, name: name, dnsName: "h\(id).example.test", type: type, description: nil, department: nil, location: nil, url: nil,
            customFields: [:], passwordPolicy: nil, ownerId: owner, createdAt: t0, updatedAt: t0)
    }

    /// Every page of `size`, each fetched after the last one's cursor.
    static func pages(_ size: Int, _ filter: ResourceFilter = ResourceFilter(), as p: Principal, _ b: StoreBackend) async throws -> [[String]] {
        var out: [[String]] = []
        var req = PageRequest(limit: size)
        for _ in 0..<50 {
            let page = try await b.resources.resources(visibleTo: p, filter, req)
            out.append(page.items.map(\.resource.name))
            guard let next = page.next else { return out }
            req.after = PageCursor(token: next.token)
            #expect(req.after == next, "the token gives the cursor back")
        }
        Issue.record("paging did not end")
        return out
    }

    @Test(arguments: StoreBackend.names("resources"))
    func resourcesPageAndFilterAlike(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        for (id, n) in [("u-root", "root"), ("u-ana", "ana"), ("u-bo", "bo")] { try await b.addUser(id, n) }
        for (i, n) in Self.names.enumerated() {
            try await b.resources.create(Self.resource("r\(i)", n, owner: i % 2 == 0 ? "u-ana" : "u-bo", type: i < 3 ? "Windows" : "Linux"),
                audit: AuditEvent(user: "t", ip: "t", operation: "create_resource"))
        }
        let whole = try await Self.pages(1000, as: Self.root, b)
        #expect(whole.count == 1 && whole[0].count == Self.names.count)
        // By name whatever the case (PostgreSQL's ICU collation also passes over punctuation).
        #expect(whole[0].first == "Alpha" && whole[0].last == "zeta" && whole[0].firstIndex(of: "db1")! < whole[0].firstIndex(of: "DB2")!)
        for size in [1, 3, 4, 9, 10] {
            let pages = try await Self.pages(size, as: Self.root, b)
            #expect(pages.flatMap { $0 } == whole[0], "pages of \(size)")
            #expect(pages.dropLast().allSatisfy { $0.count == size } && pages.last!.count <= size)
        }
        #expect(Set(try await Self.pages(2, ResourceFilter(namePrefix: "WEB"), as: Self.root, b).flatMap { $0 }) == ["Web-a", "web_b", "webXb"])
        #expect(try await Self.pages(5, ResourceFilter(namePrefix: "web_"), as: Self.root, b).flatMap { $0 } == ["web_b"], "_ is literal")
        #expect(try await Self.pages(5, ResourceFilter(namePrefix: "app%"), as: Self.root, b).flatMap { $0 } == ["app%x"], "% is literal")
        #expect(try await Self.pages(5, ResourceFilter(type: "windows"), as: Self.root, b).flatMap { $0 }.count == 3)
        #expect(try await Self.pages(5, ResourceFilter(owner: "BO"), as: Self.root, b).flatMap { $0 }.count == 5)
        #expect(try await Self.pages(5, ResourceFilter(namePrefix: "nothing"), as: Self.root, b) == [[]])
        #expect(try await Self.pages(5, ResourceFilter(search: "XB"), as: Self.root, b).flatMap { $0 } == ["webXb"], "in the name")
        #expect(try await Self.pages(5, ResourceFilter(search: "r7.EXAMPLE"), as: Self.root, b).flatMap { $0 } == [Self.names[7]], "in the DNS name")
        #expect(try await Self.pages(5, ResourceFilter(syncStatus: .neverChecked), as: Self.root, b) == [[]], "no accounts yet")
        // A limited caller pages through what it sees only: its own, and one shared account's resource.
        let mine = try await Self.pages(2, as: Self.ana, b).flatMap { $0 }
        #expect(Set(mine) == Set(Self.names.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)))
        let aid = try await b.addAccount("r1", "svc")
        try await b.share("account", aid, "u-ana", "view")
        #expect(try await Self.pages(2, as: Self.ana, b).flatMap { $0 }.count == mine.count + 1)
        #expect(try await Self.pages(2, ResourceFilter(owner: "bo"), as: Self.ana, b).flatMap { $0 } == [Self.names[1]])
        #expect(try await Self.pages(2, ResourceFilter(syncStatus: .neverChecked), as: Self.ana, b).flatMap { $0 } == [Self.names[1]])
        _ = try await b.addAccount("r3", "unshared")
        #expect(try await Self.pages(2, ResourceFilter(syncStatus: .neverChecked), as: Self.ana, b).flatMap { $0 } == [Self.names[1]],
            "nor does an account of a resource ana cannot see")
        #expect(try await Self.pages(2, ResourceFilter(syncStatus: .neverChecked), as: Self.root, b).flatMap { $0 }.count == 2)
    }

    @Test(arguments: StoreBackend.names("accounts"))
    func accountsPageAndFilterAlike(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let rid = try await b.ownResource("u-ana")
        var ids: [String: String] = [:]
        for n in ["svc1", "svc2", "SVC3", "app", "db_x", "dbyx", "root"] { ids[n] = try await b.addAccount(rid, n) }
        func pages(_ size: Int, _ f: AccountFilter = AccountFilter(), as p: Principal) async throws -> [String] {
            var out: [String] = []
            var req = PageRequest(limit: size)
            for _ in 0..<50 {
                let page = try #require(try await b.accounts.accounts(of: rid, visibleTo: p, f, req, authorize: { _ in }))
                #expect(page.items.count <= size)
                out += page.items.map(\.loginName)
                guard let next = page.next else { return out }
                req.after = next
            }
            Issue.record("paging did not end")
            return out
        }
        let all = try await pages(100, as: Self.ana)
        #expect(all.count == 7)
        for size in [1, 2, 6, 7] { #expect(try await pages(size, as: Self.ana) == all, "pages of \(size)") }
        #expect(Set(try await pages(1, AccountFilter(namePrefix: "svc"), as: Self.ana)) == ["svc1", "svc2", "SVC3"])
        #expect(try await pages(1, AccountFilter(namePrefix: "db_"), as: Self.ana) == ["db_x"])
        #expect(try await pages(3, AccountFilter(syncStatus: .inSync), as: Self.ana).isEmpty)
        // Accounts shared one by one: only those, paged alike.
        for n in ["svc1", "app", "root"] { try await b.share("account", ids[n]!, "u-bo", "view") }
        #expect(try await pages(1, as: Self.bo) == ["app", "root", "svc1"])
        #expect(try await pages(2, AccountFilter(namePrefix: "S"), as: Self.bo) == ["svc1"])
    }

    @Test(arguments: StoreBackend.names("tasks"))
    func tasksPageNewestFirst(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let rid = try await b.ownResource("u-ana")
        for i in 0..<5 { try await b.queueReset(rid, try await b.addAccount(rid, "acct\(i)")) }
        let root = Self.root
        let all = try await b.tasks.tasks(visibleTo: root, mine: false, state: nil, page: PageRequest(limit: 100)).items.map(\.task.id)
        #expect(all.count == 5)
        var seen: [String] = []
        var req = PageRequest(limit: 2)
        for _ in 0..<10 {
            let page = try await b.tasks.tasks(visibleTo: root, mine: false, state: nil, page: req)
            seen += page.items.map(\.task.id)
            guard let next = page.next else { break }
            req.after = PageCursor(token: next.token)
        }
        #expect(seen == all, "pages of 2 give the same tasks in the same order")
    }
}
