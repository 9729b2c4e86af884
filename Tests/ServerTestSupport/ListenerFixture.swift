import Foundation
import GRDB
import Testing
import TestSupport

@testable import Server

/// A listener's test environment: two administrators (the second approves), a resource with `svc`.
struct ListenerEnv {
    let admin, admin2, rid, aid, dir: String
}

/// What listener tests, and tests of plugins and script targets built on them, start from.
protocol ListenerFixture {}

/// The fixture on its own, for tests outside `ListenerTests`.
enum Listeners: ListenerFixture {}

extension ListenerFixture {
    typealias Env = ListenerEnv

    static var old: String { "Old-Pass-1234!" }
    static var new: String { "Nw'Pass-4567\"Xyz$(id) x" }

    static func setup(_ api: API, type: String = "Linux") async throws -> Env {
        let admin = try await api.admin()
        let admin2 = try await api.user("admin2", role: "administrator", adminToken: admin)
        let rid = try await api.resource("app-\(UUID().uuidString.prefix(6))", token: admin, type: type)
        let aid = try await api.account(rid, "svc", password: old, token: admin)
        let dir = TestTargets.scratch + "/listener-out-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return Env(admin: admin, admin2: admin2, rid: rid, aid: aid, dir: dir)
    }

    /// Creates a listener as `admin` and has `admin2` approve it; returns its id.
    @discardableResult
    static func listener(_ api: API, _ e: Env, _ name: String, script: String, via: String = "stdin", kind: String = "script",
        types: [String] = ["Linux"], extra: [String] = [], timeout: Double? = nil, approve: Bool = true) async throws -> String
    {
        var body: [String: Any] = ["name": name, "kind": kind, "resourceTypes": types, "script": script, "secretsVia": via,
            "additionalParameters": extra, "approver": "admin2"]
        if let timeout { body["timeoutSeconds"] = timeout }
        let r = try await api.call(.post, "/listeners", token: e.admin, json: body)
        #expect(r.status == .created, "\(r.text)")
        #expect(r.object["status"] as? String == "pendingApproval")
        let id = try #require(r.object["id"] as? String)
        if approve {
            let a = try await api.call(.post, "/listeners/\(id)/approve", token: e.admin2)
            #expect(a.object["status"] as? String == "active", "\(a.text)")
        }
        return id
    }

    static func change(_ api: API, _ e: Env, to password: String = new) async throws {
        let r = try await api.call(.put, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin,
            json: ["resetType": "local", "newPassword": password])
        #expect(r.status == .ok, "\(r.text)")
    }

    static func waitFor(_ path: String, seconds: Double = 60) async throws -> String {
        for _ in 0..<Int(seconds * 20) {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), !text.isEmpty { return text }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(path) never appeared")
        return ""
    }

    /// The audited listener runs: (outcome, message).
    static func runs(_ api: API, count: Int) async throws -> [(String, String)] {
        for _ in 0..<300 {
            let rows = try await api.harness.custody.store.read { db in
                try Row.fetchAll(db, sql: "SELECT outcome, message FROM audit WHERE operation = 'listener_run' ORDER BY id")
                    .map { ($0["outcome"] as String, $0["message"] as String) }
            }
            if rows.count >= count { return rows }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("fewer than \(count) listener runs were audited")
        return []
    }

    /// Shell lines that hold a listener until the test has read its command line (at most 30 s).
    static func hold(_ dir: String) -> String {
        "i=0; while [ ! -e \(dir)/go ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"
    }

    /// The command line of a running listener, read from /proc while it waits; then it is let go.
    static func cmdline(pidFile: String) async throws -> String {
        let pid = try await waitFor(pidFile).trimmingCharacters(in: .whitespacesAndNewlines)
        defer { FileManager.default.createFile(atPath: (pidFile as NSString).deletingLastPathComponent + "/go", contents: Data()) }
        let raw = try #require(FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"))
        return String(decoding: raw, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
    }
}
