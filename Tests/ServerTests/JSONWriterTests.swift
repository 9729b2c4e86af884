import Foundation
import GRDB
import Testing

@testable import Server
@testable import ServerTestSupport

/// The hand-written fast paths of the lists (rows decoded by hand, views written by `JSONWriter`)
/// say exactly what the Codable paths they replace say.
@Suite struct JSONWriterTests {
    static let odd = ["", "e\u{301}", "f", "plain", "q\"uote\\back/slash", "ctl\u{1}\u{1f}\u{7f}\n\t\r\u{8}\u{c}", "é😀\u{2028}", "a10", "a9", "B", "_"]
    static let dates = [0, 1_800_000_000.9996, -1.5, 951_782_400, 4_102_444_799.5, 253_402_300_800, -13_000_000_000, .infinity, 1e300].map(Date.init(timeIntervalSince1970:))

    static func same<T: JSONWritable>(_ items: [T]) throws {
        var w = JSONWriter()
        w.array(items)
        let fast = String(decoding: w.bytes, as: UTF8.self)
        let slow = String(decoding: try JSONEncoder.api.encode(items), as: UTF8.self)
        #expect(fast == slow)
    }

    static var maps: [[String: String]] { [[:], ["k": "v"], Dictionary(uniqueKeysWithValues: odd.enumerated().map { ($1, odd[($0 + 1) % odd.count]) })] }

    @Test func resourceViewsAreWrittenAsTheEncoderWritesThem() throws {
        var views: [ResourceView] = []
        for (i, s) in Self.odd.enumerated() {
            let opt: String? = i % 2 == 0 ? nil : s
            let r = ResourceRecord(id: "r\(i)", name: s, dnsName: s, type: "Linux", description: opt, department: opt, location: s,
                url: opt, customFields: Self.maps[i % 3], passwordPolicy: opt, ownerId: "u", createdAt: Self.dates[i % Self.dates.count],
                updatedAt: Self.dates[(i + 1) % Self.dates.count])
            views.append(ResourceView(r, owner: s))
        }
        try Self.same(views)
        try Self.same([ResourceView]())
    }

    @Test func accountAndAuditViewsAreWrittenAsTheEncoderWritesThem() throws {
        var accounts: [AccountView] = []
        var audit: [AuditView] = []
        for (i, s) in Self.odd.enumerated() {
            let opt: String? = i % 2 == 0 ? nil : s
            let d = Self.dates[i % Self.dates.count]
            accounts.append(AccountView(AccountRecord(id: "a\(i)", resourceId: "r", loginName: s, description: opt, notes: opt,
                customFields: Self.maps[i % 3], syncStatus: SyncStatus.allCases[i % SyncStatus.allCases.count],
                lastVerifiedAt: opt.map { _ in d }, lastChangedAt: i % 3 == 0 ? nil : d, createdAt: d)))
            audit.append(AuditView(id: Int64(i) * 1_000_000_007, at: d, user: s, ip: "::1", operation: s, resource: opt, account: opt,
                reason: opt, ticketId: opt, outcome: "success", message: opt, resourceId: opt, accountId: opt))
        }
        try Self.same(accounts)
        try Self.same(audit)
    }

    @Test func agentTaskAndRunViewsAreWrittenAsTheEncoderWritesThem() throws {
        var agents: [AgentView] = [], tasks: [TaskView] = [], runs: [RunListItem] = []
        for (i, s) in Self.odd.enumerated() {
            let opt: String? = i % 2 == 0 ? nil : s
            let d = Self.dates[i % Self.dates.count]
            let seen = d.timeIntervalSince1970.isFinite ? d.timeIntervalSince1970 : 0
            let record = AgentRecord(id: "a\(i)", hostname: s, os: s, arch: "x86_64", version: s, signingKey: Data(), sealingKey: Data(),
                resourceId: opt, enrolledAt: seen, lastSeenAt: seen, revokedAt: i % 3 == 0 ? seen : nil)
            var agent = AgentView(record, now: Date(timeIntervalSince1970: 1_800_000_000), interval: 60,
                bindings: Array(Self.odd.prefix(i % 4)), pending: i % 2 == 0 ? [] : [s, "r2"])
            agent.longPolling = i % 2 == 1
            agents.append(agent)
            let task = TaskRecord(id: "t\(i)", kind: i % 2 == 0 ? .reset : .verify, state: TaskRecord.State.allCases[i % 6],
                phase: TaskRecord.Phase.allCases[i % 5], via: s, resourceId: s, accountId: "a", host: s, requestedBy: s, requestedById: opt,
                newPasswordGiven: false, pendingSecretId: nil, attempts: i, resultCode: opt, resultMessage: i % 4 == 1 ? nil : s, reason: opt,
                ticketId: nil, createdAt: d, startedAt: i % 3 == 0 ? nil : d, finishedAt: opt.map { _ in d }, notBefore: 0)
            tasks.append(TaskView(task))
            let view = RotationRunView(id: s, trigger: s, requestedBy: s, state: i % 2 == 0 ? "running" : "finished", groupId: opt, startedAt: d,
                summary: .init(total: i, succeeded: i * 3, failed: -i, skipped: Int.max - i, pending: 0), accounts: [])
            runs.append(RunListItem(view, group: opt))
        }
        try Self.same(agents)
        try Self.same(tasks)
        try Self.same(runs)
    }

    @Test func cursorsAreTheTokensTheEncoderMade() throws {
        for (key, id) in zip(Self.odd, Self.odd.reversed()) {
            let c = PageCursor(key: key, id: id)
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            let before = try e.encode(c).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(c.token == before)
            // A control character never names a stored row: such a cursor is refused.
            let control = (key + id).unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            #expect(PageCursor(token: c.token) == (control ? nil : c))
        }
    }

    @Test func aNextLinkCarriesOnlyWhatAURIAllows() {
        #expect(Server.Reply.linkSafe("name=a b>c&q=%68&x=é\"<") == "name=a%20b%3Ec&q=%68&x=%C3%A9%22%3C")
        #expect(Server.Reply.linkSafe("q=100%&r=%4") == "q=100%25&r=%254")
    }

    @Test func recordsReadByHandEqualWhatWasStored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-rows-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pool = try DatabasePool(path: dir.appendingPathComponent("vault.sqlite").path)
        try Migrations.migrator.migrate(pool)
        let owner = UserRecord(id: "u", username: "ana", passwordHash: "x", role: .administrator, superAdmin: false, email: nil,
            mustChangePassword: false, createdAt: Date(timeIntervalSince1970: 1))
        let resource = ResourceRecord(id: "r", name: "web", dnsName: "web.example", type: "Linux", description: "d/\"", department: "dep",
            location: "é😀", url: "https://web.example", customFields: Self.maps[2], passwordPolicy: nil, ownerId: "u",
            createdAt: Date(timeIntervalSince1970: 1_800_000_000.25), updatedAt: Date(timeIntervalSince1970: 1_800_000_001))
        let account = AccountRecord(id: "a", resourceId: "r", loginName: "root", description: "d", notes: "n", customFields: ["x": "{}"],
            syncStatus: .outOfSync, lastVerifiedAt: Date(timeIntervalSince1970: 5.5), lastChangedAt: Date(timeIntervalSince1970: 6.25), createdAt: Date(timeIntervalSince1970: 7))
        let tasks = [
            TaskRecord(id: "t1", kind: .reset, state: .unknown, phase: .reconcile, via: "agent", resourceId: "r", accountId: "a", host: "web",
                requestedBy: "ana", requestedById: "u", newPasswordGiven: true, pendingSecretId: "s", attempts: 3, resultCode: "c",
                resultMessage: "m", reason: "why", ticketId: "T", createdAt: Date(timeIntervalSince1970: 1_800_000_000.5),
                startedAt: Date(timeIntervalSince1970: 2), finishedAt: Date(timeIntervalSince1970: 3), notBefore: 4.25, notAfter: 5,
                rotationRunId: "rr", integrityRunId: "ir", reconcileAttempts: 2),
            TaskRecord(id: "t2", kind: .verify, state: .queued, phase: .queued, via: "agentless", resourceId: "r", accountId: "a", host: "web",
                requestedBy: "sched", requestedById: nil, newPasswordGiven: false, pendingSecretId: nil, attempts: 0, resultCode: nil,
                resultMessage: nil, reason: nil, ticketId: nil, createdAt: Date(timeIntervalSince1970: 9), startedAt: nil, finishedAt: nil,
                notBefore: 0),
        ]
        try pool.write { db in
            try owner.insert(db); try resource.insert(db); try account.insert(db)
            for t in tasks { try t.insert(db) }
            try db.execute(sql: """
                INSERT INTO audit(id, at, user, ip, operation, resource, account, reason, ticketId, outcome, message, resourceId, accountId,
                  prevHash, hash) VALUES (1, 12.5, 'ana', '::1', 'op', 'web', 'acc', 'why', 'T-1', 'success', 'm', 'r', 'a', 'p', 'h')
                """)
        }
        try pool.read { db in
            let r = try #require(try ResourceRecord.fetchOne(db, key: "r"))
            #expect(r == resource, "\(r) \(resource)")
            let a = try #require(try AccountRecord.fetchOne(db, key: "a"))
            #expect(try JSONEncoder.api.encode(AccountView(a)) == JSONEncoder.api.encode(AccountView(account)))
            let e = try #require(try AuditEntry.fetchOne(db, sql: "SELECT * FROM audit"))
            #expect(e == AuditEntry(id: 1, at: 12.5, user: "ana", ip: "::1", operation: "op", resource: "web", account: "acc", reason: "why",
                ticketId: "T-1", outcome: "success", message: "m", resourceId: "r", accountId: "a", prevHash: "p", hash: "h"))
            // The lists' own path: a cached statement, columns placed once, in another order.
            let listed = try db.list("SELECT hash, accountId, resourceId, message, outcome, ticketId, reason, account, resource, operation, ip, "
                + "user, at, prevHash, id FROM audit", [], AuditEntry.rowColumns, AuditEntry.init)
            #expect(listed == [e])
            let withOwner = try db.list("SELECT u.username AS ownerName, r.* FROM resources r JOIN users u ON u.id = r.ownerId", [],
                ResourceRecord.rowColumns) { row, i in try ResourceRecord(row: row, i) }
            #expect(withOwner == [resource])
            // Tasks as the engine reads them (GRDB's own fetch, now by hand) and as the list reads them.
            let stored = try TaskRecord.fetchAll(db, sql: "SELECT * FROM tasks ORDER BY id")
            let exact = JSONEncoder()
            exact.outputFormatting = .sortedKeys
            #expect(try exact.encode(stored) == exact.encode(tasks), "dates to the fraction")
            let listed2 = try db.list("SELECT reconcileAttempts, t.* FROM tasks t ORDER BY id", [], TaskRecord.rowColumns, TaskRecord.init)
            #expect(try exact.encode(listed2) == exact.encode(tasks))
        }
        try pool.write { db in
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'sideways'")
            #expect(throws: StoreError.self) { try AccountRecord.fetchOne(db, key: "a") }
            try db.execute(sql: "UPDATE tasks SET phase = 'lost' WHERE id = 't2'")
            #expect(throws: StoreError.self) { try TaskRecord.fetchOne(db, key: "t2") }
        }
    }
}
