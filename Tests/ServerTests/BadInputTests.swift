import Foundation
import GRDB
import HTTPTypes
import Testing

@testable import Server
@testable import ServerTestSupport

/// A corpus of bad requests: each gets a 4xx with an error code, none a 5xx, and none changes anything.
@Suite struct BadInputTests {
    struct Bad: Sendable {
        let name: String
        let method: HTTPRequest.Method
        let path: String
        var body: String? = nil
        var contentType = "application/json"
        var token: Token = .admin
        enum Token: Sendable { case admin, none, garbage, expired, revoked, basic }
    }

    static func corpus(rid: String, aid: String) -> [Bad] {
        let resource = #"{"name":"ok","dnsName":"h","type":"Linux"}"#
        return [
            Bad(name: "malformed json", method: .post, path: "/resources", body: #"{"name": "#),
            Bad(name: "array body", method: .post, path: "/resources", body: "[]"),
            Bad(name: "empty body", method: .post, path: "/resources", body: ""),
            Bad(name: "unknown field", method: .post, path: "/resources", body: #"{"name":"a","dnsName":"h","type":"Linux","evil":1}"#),
            Bad(name: "missing field", method: .post, path: "/resources", body: #"{"name":"a"}"#),
            Bad(name: "wrong type", method: .post, path: "/resources", body: #"{"name":1,"dnsName":"h","type":"Linux"}"#),
            Bad(name: "null field", method: .post, path: "/resources", body: #"{"name":null,"dnsName":"h","type":"Linux"}"#),
            Bad(name: "control character", method: .post, path: "/resources", body: #"{"name":"a\u0001b","dnsName":"h","type":"Linux"}"#),
            Bad(name: "path separator", method: .post, path: "/resources", body: #"{"name":"../etc/passwd","dnsName":"h","type":"Linux"}"#),
            Bad(name: "backslash", method: .post, path: "/resources", body: #"{"name":"a\\b","dnsName":"h","type":"Linux"}"#),
            Bad(name: "bad host", method: .post, path: "/resources", body: #"{"name":"a","dnsName":"h; rm -rf /","type":"Linux"}"#),
            Bad(name: "unknown type", method: .post, path: "/resources", body: #"{"name":"a","dnsName":"h","type":"NoSuchType"}"#),
            Bad(name: "unknown policy", method: .post, path: "/resources", body: #"{"name":"a","dnsName":"h","type":"Linux","passwordPolicy":"Nope"}"#),
            Bad(name: "too many custom fields", method: .post, path: "/resources",
                body: #"{"name":"a","dnsName":"h","type":"Linux","customFields":{"# + (0..<101).map { #""k\#($0)":"v""# }.joined(separator: ",") + "}}"),
            Bad(name: "oversized body", method: .post, path: "/resources",
                body: #"{"name":"a","dnsName":"h","type":"Linux","description":""# + String(repeating: "x", count: 2 << 20) + #""}"#),
            Bad(name: "deep nesting", method: .post, path: "/resources", body: String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)),
            Bad(name: "wrong content type", method: .post, path: "/resources", body: resource, contentType: "text/plain"),
            Bad(name: "no token", method: .post, path: "/resources", body: resource, token: .none),
            Bad(name: "garbage token", method: .post, path: "/resources", body: resource, token: .garbage),
            Bad(name: "basic auth", method: .post, path: "/resources", body: resource, token: .basic),
            Bad(name: "expired token", method: .post, path: "/resources", body: resource, token: .expired),
            Bad(name: "revoked token", method: .post, path: "/resources", body: resource, token: .revoked),
            Bad(name: "unknown resource", method: .get, path: "/resources/00000000-0000-0000-0000-000000000000"),
            Bad(name: "unknown resource delete", method: .delete, path: "/resources/nope"),
            Bad(name: "unknown resource account", method: .post, path: "/resources/nope/accounts", body: #"{"loginName":"x","password":"y"}"#),
            Bad(name: "unknown account", method: .get, path: "/resources/\(rid)/accounts/nope/password"),
            Bad(name: "account under wrong resource", method: .get, path: "/resources/nope/accounts/\(aid)/password"),
            Bad(name: "duplicate account", method: .post, path: "/resources/\(rid)/accounts", body: #"{"loginName":"root","password":"y"}"#),
            Bad(name: "empty password", method: .post, path: "/resources/\(rid)/accounts", body: #"{"loginName":"new","password":""}"#),
            Bad(name: "unknown role", method: .post, path: "/users", body: #"{"username":"x","password":"Long-Enough-1","role":"god"}"#),
            Bad(name: "weak user password", method: .post, path: "/users", body: #"{"username":"x","password":"short","role":"passwordUser"}"#),
            Bad(name: "super password user", method: .post, path: "/users",
                body: #"{"username":"x","password":"Long-Enough-1","role":"passwordUser","superAdmin":true}"#),
            Bad(name: "duplicate user", method: .post, path: "/users", body: #"{"username":"ADMIN","password":"Long-Enough-1","role":"passwordUser"}"#),
            Bad(name: "bad permission", method: .put, path: "/resources/\(rid)/shares", body: #"{"users":[{"username":"admin","permission":"owner"}]}"#),
            Bad(name: "share to nobody", method: .put, path: "/resources/\(rid)/shares", body: #"{"users":[{"username":"ghost","permission":"view"}]}"#),
            Bad(name: "policy min > max", method: .post, path: "/policies", body: #"{"name":"p","minLength":20,"maxLength":10}"#),
            Bad(name: "replace built-in policy", method: .post, path: "/policies", body: #"{"name":"Strong","minLength":1,"maxLength":10}"#),
            Bad(name: "bad reset type", method: .put, path: "/resources/\(rid)/accounts/\(aid)/password", body: #"{"resetType":"sideways"}"#),
            Bad(name: "policy violation", method: .put, path: "/resources/\(rid)/accounts/\(aid)/password",
                body: #"{"resetType":"local","newPassword":"short"}"#),
            Bad(name: "bad audit limit", method: .get, path: "/audit?limit=abc"),
            Bad(name: "bad audit since", method: .get, path: "/audit?since=yesterday"),
            Bad(name: "token in the past", method: .post, path: "/tokens", body: #"{"name":"t","expiresAt":"2001-01-01T00:00:00Z"}"#),
            Bad(name: "token bad date", method: .post, path: "/tokens", body: #"{"name":"t","expiresAt":"soon"}"#),
            Bad(name: "csv wrong type", method: .post, path: "/import/resources", body: "resourceName,accountName\na,b\n"),
            Bad(name: "csv unknown column", method: .post, path: "/import/resources", body: "resourceName,accountName,evil\na,b,c\n", contentType: "text/csv"),
            Bad(name: "csv unterminated", method: .post, path: "/import/resources", body: "resourceName,accountName\n\"a,b\n", contentType: "text/csv"),
            Bad(name: "group with foreign resource", method: .post, path: "/groups", body: #"{"name":"g","resourceIds":["nope"]}"#),
            Bad(name: "custom type bad plugin", method: .post, path: "/resource-types", body: #"{"name":"T","plugin":"rm -rf"}"#),
        ]
    }

    static let tables = ["users", "userGroups", "userGroupMembers", "resources", "accounts", "secrets", "groups", "groupResources",
        "shares", "policies", "resourceTypes", "vaultMeta"]

    func snapshot(_ h: Harness) async throws -> [String: [String]] {
        try await h.custody.store.read { db in
            var out: [String: [String]] = [:]
            for t in Self.tables {
                out[t] = try Row.fetchAll(db, sql: "SELECT * FROM \(t) ORDER BY 1").map { $0.description }
            }
            out["tokens"] = try Row.fetchAll(db, sql: "SELECT id, revokedAt FROM tokens ORDER BY id").map { $0.description }
            return out
        }
    }

    @Test func badRequestsGetA4xxWithACodeAndChangeNothing() async throws {
        let clock = TestClock()
        let h = try await Harness.make(clock: clock)
        try await h.run { api in
            let admin = try await api.admin()
            let rid = try await api.resource("target", token: admin)
            let aid = try await api.account(rid, "root", password: "Root-Pass-99", token: admin)
            let expiring = try await api.call(.post, "/tokens", token: admin,
                json: ["name": "old", "expiresAt": ISO8601DateFormatter().string(from: clock.now.addingTimeInterval(60))])
            let expired = try #require(expiring.object["token"] as? String)
            let revokedReply = try await api.call(.post, "/tokens", token: admin, json: ["name": "revoked"])
            let revoked = try #require(revokedReply.object["token"] as? String)
            try await api.call(.delete, "/tokens/\(try #require(revokedReply.object["id"] as? String))", token: admin)
            clock.advance(120)
            let before = try await snapshot(h)
            for bad in Self.corpus(rid: rid, aid: aid) {
                let token: String? =
                    switch bad.token {
                    case .admin: admin
                    case .none, .basic: nil
                    case .garbage: "cst_garbage"
                    case .expired: expired
                    case .revoked: revoked
                    }
                let r: Reply
                if bad.token == .basic {
                    var headers = HTTPFields()
                    headers[.authorization] = "Basic YWRtaW46YWRtaW4="
                    let resp = try await api.client.execute(uri: "/api/v1" + bad.path, method: bad.method, headers: headers, body: nil)
                    r = Reply(status: resp.status, data: Data(resp.body.readableBytesView))
                } else {
                    r = try await api.call(bad.method, bad.path, token: token, raw: bad.body, contentType: bad.contentType)
                }
                #expect((400..<500).contains(r.status.code), "\(bad.name): \(r.status.code) \(r.text.prefix(200))")
                #expect(r.errorCode != nil, "\(bad.name): no error code in \(r.text.prefix(200))")
                #expect(!r.text.contains("Root-Pass-99"), "\(bad.name) leaked a password")
            }
            let after = try await snapshot(h)
            for t in before.keys { #expect(before[t] == after[t], "table \(t) changed") }
        }
    }
}
