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

    @Test func cursorsAreTheTokensTheEncoderMade() throws {
        for (key, id) in zip(Self.odd, Self.odd.reversed()) {
            let c = PageCursor(key: key, id: id)
            let e = JSONEncoder()
            e.outputFormatting = .sortedKeys
            let before = try e.encode(c).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(c.token == before)
            #expect(PageCursor(token: c.token) == c)
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
        try pool.write { db in
            try owner.insert(db); try resource.insert(db); try account.insert(db)
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
        }
        try pool.write { db in
            try db.execute(sql: "UPDATE accounts SET syncStatus = 'sideways'")
            #expect(throws: StoreError.self) { try AccountRecord.fetchOne(db, key: "a") }
        }
    }
}
