import Foundation
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// Every list pages through the API: `limit` and `cursor` in, `X-Next-Cursor` and `Link` out,
/// the same rows however the list is cut, filters, and a clear 400 for a bad limit or cursor.
@Suite struct ListPagingTests {
    static let next = HTTPField.Name("X-Next-Cursor")!

    /// Every row of `path`, read `size` at a time through the cursors; the pages' sizes too.
    static func all(_ api: API, _ path: String, size: Int, token: String, key: String = "id") async throws -> (rows: [String], pages: [Int]) {
        var rows: [String] = [], pages: [Int] = []
        var url = path + (path.contains("?") ? "&" : "?") + "limit=\(size)"
        for _ in 0..<100 {
            let r = try await api.call(.get, url, token: token)
            #expect(r.status == .ok, "\(url): \(r.text)")
            rows += r.array.compactMap { $0[key].map { "\($0)" } }
            pages.append(r.array.count)
            guard let cursor = r.headers[Self.next] else {
                #expect(r.headers[.link] == nil)
                return (rows, pages)
            }
            let link = try #require(r.headers[.link])
            #expect(link.hasPrefix("</api/v1/") && link.hasSuffix("rel=\"next\"") && link.contains("limit=\(size)"), "\(link)")
            let target = String(link.dropFirst().prefix { $0 != ">" }.dropFirst("/api/v1".count))
            url = target
            #expect(target.contains("cursor=" + cursor), "the Link names the same cursor")
        }
        Issue.record("\(path) did not end")
        return (rows, pages)
    }

    @Test func everyListPagesTheSameRowsAsOneAnswer() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            var csv = "resourceName,accountName,dnsName,type,password\n"
            for i in 0..<230 { csv += "host\(String(format: "%03d", i)),svc,h\(i).example.test,Linux,Pw-\(UUID().uuidString)\n" }
            for i in 0..<120 { csv += "big,acct\(String(format: "%03d", i)),big.example.test,Linux,Pw-\(UUID().uuidString)\n" }
            let imported = try await api.call(.post, "/import/resources", token: admin, raw: csv, contentType: "text/csv")
            #expect(imported.object["imported"] as? Int == 350, "\(imported.text)")

            let one = try await api.call(.get, "/resources?limit=1000", token: admin).array.compactMap { $0["id"] as? String }
            #expect(one.count == 231)
            let paged = try await Self.all(api, "/resources", size: 100, token: admin)
            #expect(paged.rows == one && paged.pages == [100, 100, 31])
            let first = try await api.call(.get, "/resources", token: admin)
            #expect(first.array.count == PageRequest.defaultLimit && first.headers[Self.next] != nil, "a default page, and a cursor")

            let prefix = try await Self.all(api, "/resources?name=HOST01", size: 4, token: admin, key: "name")
            #expect(prefix.rows == (10...19).map { "host0\($0)" } && prefix.pages == [4, 4, 2])
            // The next page's link repeats the query as it was sent, escapes and all.
            let escaped = try await Self.all(api, "/resources?name=HOST01&q=%68ost01", size: 4, token: admin, key: "name")
            #expect(escaped.rows == prefix.rows && escaped.pages == [4, 4, 2])
            #expect(try await Self.all(api, "/resources?type=linux&owner=admin", size: 1000, token: admin).rows.count == 231)
            #expect(try await Self.all(api, "/resources?owner=nobody", size: 10, token: admin).rows.isEmpty)

            let big = try #require(try await api.call(.get, "/resources?name=big", token: admin).array.first?["id"] as? String)
            let accounts = try await Self.all(api, "/resources/\(big)/accounts", size: 50, token: admin, key: "loginName")
            #expect(accounts.rows == (0..<120).map { "acct" + String(format: "%03d", $0) } && accounts.pages == [50, 50, 20])
            #expect(try await Self.all(api, "/resources/\(big)/accounts?name=ACCT11&syncStatus=neverChecked", size: 3, token: admin).rows.count == 10)

            let group = try await api.call(.post, "/groups", token: admin, json: ["name": "first-ten", "resourceIds": Array(one.prefix(10))])
            let gid = try #require(group.object["id"] as? String)
            #expect(try await Self.all(api, "/resources?groupId=\(gid)", size: 3, token: admin).rows == Array(one.prefix(10)))

            for i in 0..<5 { _ = try await api.user("pager\(i)", role: "passwordUser", adminToken: admin) }
            let users = try await api.call(.get, "/users?limit=1000", token: admin).array.compactMap { $0["id"] as? String }
            #expect(try await Self.all(api, "/users", size: 2, token: admin).rows == users)
            #expect(try await Self.all(api, "/users?name=pager&role=passwordUser", size: 2, token: admin).pages == [2, 2, 1])
            for i in 0..<3 { _ = try await api.call(.post, "/groups", token: admin, json: ["name": "g\(i)", "resourceIds": [one[i]]]) }
            #expect(try await Self.all(api, "/groups", size: 3, token: admin).pages == [3, 1])
            #expect(try await Self.all(api, "/groups?name=G", size: 2, token: admin).rows.count == 3)
            for i in 0..<3 { _ = try await api.call(.post, "/user-groups", token: admin, json: ["name": "team\(i)", "members": []]) }
            #expect(try await Self.all(api, "/user-groups", size: 2, token: admin).pages == [2, 1])
            #expect(try await Self.all(api, "/agents?status=online", size: 2, token: admin).rows.isEmpty)

            let audit = try await api.call(.get, "/audit?limit=40", token: admin).array.compactMap { $0["id"] as? Int }
            let pagedAudit = try await Self.all(api, "/audit?limit=40", size: 7, token: admin)
            #expect(pagedAudit.rows.prefix(40).map { Int($0)! } == audit, "newest first, the same rows")
            let ids = try await Self.all(api, "/resources/\(big)/accounts?limit=5", size: 5, token: admin).rows.prefix(5)
            try await api.call(.put, "/resources/\(big)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh", "port": 1])
            for aid in ids { let v = try await api.call(.post, "/resources/\(big)/accounts/\(aid)/verify", token: admin); #expect(v.status == .accepted, "\(v.text)") }
            let tasks = try await Self.all(api, "/tasks", size: 2, token: admin)
            #expect(tasks.pages == [2, 2, 1] && Set(tasks.rows).count == 5, "\(tasks)")
            // A cursor naming someone else's task tells nothing: the same answer as a made-up id.
            let peeker = try await api.user("peeker", role: "passwordUser", adminToken: admin)
            for id in [tasks.rows[2], "no-such-task"] {
                let r = try await api.call(.get, "/tasks?mine=false&cursor=" + PageCursor(key: "0", id: id).token, token: peeker)
                #expect(r.status == .ok && r.array.isEmpty && r.headers[Self.next] == nil, "\(id): \(r.text)")
            }
        }
    }

    /// A page of groups holds those the caller owns or that are shared with it or its user groups,
    /// and no other, however it is cut.
    @Test func groupsPageWhatTheCallerOwnsOrIsSharedWith() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let root = try await api.admin()
            let ana = try await api.user("ana", role: "administrator", adminToken: root)
            let una = try await api.user("una", role: "passwordUser", adminToken: root)
            _ = try await api.call(.post, "/user-groups", token: root, json: ["name": "ops", "members": ["una"]])
            var ids: [String: String] = [:]
            for (name, token) in [("a-owned", ana), ("b-direct", root), ("c-team", root), ("d-hidden", root), ("e-owned", ana)] {
                ids[name] = try #require(try await api.call(.post, "/groups", token: token, json: ["name": name]).object["id"] as? String)
            }
            try await api.call(.put, "/groups/\(ids["b-direct"]!)/shares", token: root, json: ["users": [["username": "una", "permission": "view"]]])
            try await api.call(.put, "/groups/\(ids["c-team"]!)/shares", token: root, json: ["userGroups": [["name": "ops", "permission": "view"]]])
            try await api.call(.put, "/groups/\(ids["a-owned"]!)/shares", token: ana, json: ["userGroups": [["name": "ops", "permission": "view"]]])
            let seen = try await Self.all(api, "/groups", size: 1, token: una, key: "name")
            #expect(seen.rows == ["a-owned", "b-direct", "c-team"] && seen.pages == [1, 1, 1])
            #expect(try await Self.all(api, "/groups", size: 2, token: ana, key: "name").rows == ["a-owned", "e-owned"])
            #expect(try await Self.all(api, "/groups?name=C-", size: 5, token: una, key: "name").rows == ["c-team"])
            #expect(try await Self.all(api, "/groups", size: 2, token: root, key: "name").rows == ["a-owned", "b-direct", "c-team", "d-hidden", "e-owned"])
        }
    }

    @Test func badPagingIsRefusedInWords() async throws {
        let h = try await Harness.make()
        try await h.run { api in
            let admin = try await api.admin()
            for path in ["/resources?limit=0", "/resources?limit=1001", "/resources?limit=ten", "/users?limit=-1", "/audit?limit=10001",
                "/tasks?limit=0", "/groups?limit=1001", "/agents?status=asleep", "/tasks?state=done", "/users?role=king"]
            {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_parameter", "\(path): \(r.text)")
            }
            // A control character in a cursor is refused too (PostgreSQL would fail on a NUL in text).
            for path in ["/resources?cursor=nonsense", "/tasks?cursor=%%%", "/users?cursor=eyJ4IjoxfQ", "/audit?cursor=" + PageCursor(key: "", id: "x").token,
                "/groups?cursor=" + PageCursor(key: "a\u{0}", id: "x").token, "/agents?cursor=" + PageCursor(key: "a", id: "x\u{1b}").token]
            {
                let r = try await api.call(.get, path, token: admin)
                #expect(r.status == .badRequest && r.errorCode == "invalid_cursor", "\(path): \(r.text)")
                #expect(!r.text.contains("nonsense"))
            }
            let long = try await api.call(.get, "/resources?name=" + String(repeating: "a", count: 201), token: admin)
            #expect(long.status == .badRequest)
        }
    }
}
