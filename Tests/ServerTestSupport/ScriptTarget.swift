import Foundation
import GRDB
import Testing

@testable import Server

/// A target written as a custom plugin: it keeps the account's password in a file and can be
/// told (through `<file>.mode`) to misbehave after it changed the password, as a real plugin
/// that crashes or garbles its answer would. The file is the target's state that tests check.
struct ScriptTarget {
    static let script = #"""
        #!/usr/bin/env python3
        import json, os, sys
        job = json.load(sys.stdin)
        path = job["settings"]["options"]["file"]
        mode = open(path + ".mode").read().strip() if os.path.exists(path + ".mode") else "normal"
        current = open(path).read()
        op = job["operation"]
        def answer(obj, rc=0):
            print(json.dumps(obj)); sys.stdout.flush(); sys.exit(rc)
        if op == "notify": answer({"ok": True})
        if op == "verify":
            if mode == "verify-unreachable": answer({"ok": False, "code": "unreachable", "message": "no route"})
            if job.get("currentPassword") == current: answer({"ok": True})
            answer({"ok": False, "code": "authenticationFailed", "message": "wrong password"})
        if job.get("currentPassword") != current: answer({"ok": False, "code": "authenticationFailed", "message": "wrong password"})
        if mode == "refuse": answer({"ok": False, "code": "rejectedByTarget", "message": "history"})
        with open(path, "w") as f: f.write(job["newPassword"])
        if mode == "crash" or mode == "verify-unreachable": os.kill(os.getpid(), 9)
        if mode == "garbage": print("changing the password..."); answer({"ok": True})
        if mode == "oversize": sys.stdout.write("x" * 300000); sys.exit(0)
        if mode == "nonzero": answer({"ok": True}, 3)
        if mode == "unknown-code": answer({"ok": False, "code": "weird"})
        if mode == "hang": import time; time.sleep(30)
        if mode == "slow": import time; time.sleep(1.5)
        answer({"ok": True})
        """#

    let env: Listeners.Env
    let file: String

    /// A custom type on the script, a resource of it with `svc` (password `Listeners.old`).
    static func make(_ api: API, name: String = "target\(UUID().uuidString.prefix(4).lowercased())") async throws -> ScriptTarget {
        let (env, _) = try await CustomPlugins.setup(api, plugin: name, script: script)
        let file = env.dir + "/state"
        try Listeners.old.write(toFile: file, atomically: true, encoding: .utf8)
        let cfg = try await api.call(.put, "/resources/\(env.rid)/reset-config", token: env.admin,
            json: ["mode": "agentless", "options": ["file": file]])
        #expect(cfg.status == .ok, "\(cfg.text)")
        return ScriptTarget(env: env, file: file)
    }

    /// What the target holds now.
    var password: String { (try? String(contentsOfFile: file, encoding: .utf8)) ?? "" }

    func mode(_ m: String) throws { try m.write(toFile: file + ".mode", atomically: true, encoding: .utf8) }

    func reset(_ api: API, new: String? = nil) async throws -> [String: Any] {
        var body: [String: Any] = ["resetType": "remote"]
        body["newPassword"] = new
        let r = try await api.call(.put, "/resources/\(env.rid)/accounts/\(env.aid)/password", token: env.admin, json: body)
        let id = try #require(r.object["taskId"] as? String, "\(r.text)")
        return try await Fixtures.waitTask(api, id, token: env.admin)
    }

    func answer(_ api: API) async throws -> [String: Any] {
        try await api.call(.get, "/resources/\(env.rid)/accounts/\(env.aid)/password", token: env.admin).object
    }

    func account(_ api: API) async throws -> [String: Any] {
        try await api.call(.get, "/resources/\(env.rid)/accounts/\(env.aid)", token: env.admin).object
    }

    /// The invariant: the vault's password works on the target, or a candidate does.
    func holdsAWorkingPassword(_ api: API) async throws -> Bool {
        let a = try await answer(api)
        let candidates = (a["candidates"] as? [[String: Any]] ?? []).compactMap { $0["password"] as? String }
        return a["password"] as? String == password || candidates.contains(password)
    }
}
