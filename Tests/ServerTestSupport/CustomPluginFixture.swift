import Crypto
import Foundation
import Shared
import Testing
import TestSupport

@testable import Server

/// A custom resource type bound to an approved custom plugin (the shipped examples, or a script).
protocol CustomPluginFixture {}

enum CustomPlugins: CustomPluginFixture {}

extension CustomPluginFixture {
    static var examples: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/plugins").path
    }

    /// A credential file holding `login` with `password`, as both examples read it.
    static func credentialFile(_ dir: String, _ login: String, _ password: String) throws -> String {
        let path = dir + "/credentials"
        let hash = SHA256.hash(data: Data(("0011" + password).utf8)).hexString
        try "other:ab:cd\n\(login):0011:\(hash)\n".write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A custom type bound to an approved custom plugin, a resource of it with `svc`, and its reset config.
    static func setup(_ api: API, plugin: String, script: String) async throws -> (Listeners.Env, file: String) {
        let admin = try await api.admin()
        _ = try await api.user("admin2", role: "administrator", adminToken: admin)
        let login = try await api.call(.post, "/auth/login", json: ["username": "admin2", "password": API.userPassword + "x"])
        let admin2 = try #require(login.object["token"] as? String)
        let type = "App \(plugin)"
        let early = try await api.call(.post, "/resource-types", token: admin, json: ["name": type, "plugin": "external:\(plugin)"])
        #expect(early.errorCode == "invalid_field", "a type cannot name a plugin that does not exist")
        let l = try await api.call(.post, "/listeners", token: admin, json: ["name": plugin, "kind": "custom", "resourceTypes": [type],
            "script": script, "approver": "admin2"])
        #expect(l.status == .created, "\(l.text)")
        let t = try await api.call(.post, "/resource-types", token: admin, json: ["name": type, "plugin": "external:\(plugin)"])
        #expect(t.status == .created, "\(t.text)")
        let rid = try await api.resource("app-\(UUID().uuidString.prefix(6))", token: admin, type: type)
        let aid = try await api.account(rid, "svc", password: Listeners.old, token: admin)
        let dir = TestTargets.scratch + "/plugin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = try credentialFile(dir, "svc", Listeners.old)
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "options": ["file": file]])
        #expect(cfg.status == .ok, "\(cfg.text)")
        let pending = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
        #expect(pending.errorCode == "reset_unsupported", "an unapproved plugin never runs: \(pending.text)")
        let lid = try #require(l.object["id"] as? String)
        #expect(try await api.call(.post, "/listeners/\(lid)/approve", token: admin2).object["status"] as? String == "active")
        return (Listeners.Env(admin: admin, admin2: admin2, rid: rid, aid: aid, dir: dir), file)
    }
}
