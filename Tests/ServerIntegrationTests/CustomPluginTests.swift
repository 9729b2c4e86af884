import Crypto
import Foundation
import GRDB
import Shared
import Testing
import TestSupport

@testable import Server
@testable import ServerTestSupport

/// A custom plugin (the shipped examples) as the reset and verify plugin of a custom resource
/// type, end to end through the task engine; and every way a plugin can misbehave changing nothing.
@Suite struct CustomPluginTests: CustomPluginFixture {
    typealias L = Listeners
    static func task(_ api: API, _ e: L.Env, remote new: String?) async throws -> [String: Any] {
        let r: Reply
        if let new {
            r = try await api.call(.put, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin,
                json: ["resetType": "remote", "newPassword": new])
        } else {
            r = try await api.call(.post, "/resources/\(e.rid)/accounts/\(e.aid)/verify", token: e.admin)
        }
        let id = try #require(r.object["taskId"] as? String, "\(r.text)")
        return try await Fixtures.waitTask(api, id, token: e.admin)
    }

    static func stored(_ api: API, _ e: L.Env) async throws -> String? {
        try await api.call(.get, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin).object["password"] as? String
    }

    @Test func theShellExampleResetsAndVerifiesThroughTheTaskEngine() async throws {
        let script = try String(contentsOfFile: Self.examples + "/credfile.sh", encoding: .utf8)
        try await Harness.make().run { api in
            let (e, file) = try await Self.setup(api, plugin: "credfile", script: script)
            let verified = try await Self.task(api, e, remote: nil)
            #expect(verified["state"] as? String == "succeeded", "\(verified)")
            let reset = try await Self.task(api, e, remote: L.new)
            #expect(reset["state"] as? String == "succeeded", "\(reset)")
            #expect(try await Self.stored(api, e) == L.new)
            let line = try #require(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").first { $0.hasPrefix("svc:") })
            let parts = line.split(separator: ":").map(String.init)
            #expect(SHA256.hash(data: Data((parts[1] + L.new).utf8)).map { String(format: "%02x", $0) }.joined() == parts[2])
            #expect(try await Self.task(api, e, remote: nil)["state"] as? String == "succeeded")
            let rename = try await api.call(.put, "/listeners/credfile", token: e.admin, json: ["name": "renamed", "kind": "custom",
                "resourceTypes": ["App credfile"], "script": script, "approver": "admin2"])
            #expect(rename.status == .conflict, "a bound plugin cannot be renamed: \(rename.text)")
            #expect(try await api.call(.delete, "/listeners/credfile", token: e.admin).status == .conflict)
            // The plugin is also the listener of its type: notify ran after the commit.
            let log = try await L.waitFor(file + ".log")
            #expect(log.contains("changed svc") && !log.contains(L.new))
        }
    }

    @Test func theSwiftExampleSpeaksTheSameProtocol() async throws {
        let binary = URL(fileURLWithPath: ServerProcess.binary).deletingLastPathComponent().appendingPathComponent("custody-plugin-credfile").path
        #expect(FileManager.default.isExecutableFile(atPath: binary), "build the example first: \(binary)")
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let dir = NSTemporaryDirectory() + "swift-plugin-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let file = try Self.credentialFile(dir, "svc", L.old)
            _ = try await api.user("admin2", role: "administrator", adminToken: admin)
            let login = try await api.call(.post, "/auth/login", json: ["username": "admin2", "password": API.userPassword + "x"])
            let admin2 = try #require(login.object["token"] as? String)
            let l = try await api.call(.post, "/listeners", token: admin, json: ["name": "swiftcred", "kind": "custom",
                "resourceTypes": ["Swift Cred"], "executable": binary, "approver": "admin2"])
            #expect((l.object["warnings"] as? [String])?.first?.contains("does not exist (yet)") == true, "\(l.text)")
            let created = l
            #expect((created.object["sha256"] as? String)?.count == 64, "\(created.text)")
            let lid = try #require(created.object["id"] as? String)
            try await api.call(.post, "/listeners/\(lid)/approve", token: admin2)
            let plugin = try await api.harness.custody.externalPlugin(named: "swiftcred")
            let job = ResetJob(operation: .reset, resource: ["RESOURCENAME": "app"], account: ["LOGINNAME": "svc"],
                currentPassword: Secret(L.old), newPassword: Secret(L.new), settings: ResetSettings(options: ["file": file]))
            try await plugin.verify(job)
            _ = try await plugin.reset(job)
            await #expect(throws: ResetFailure.self) { try await plugin.verify(job) }  // the old password no longer works
            var after = job
            after.currentPassword = Secret(L.new)
            try await plugin.verify(after)
        }
    }

    @Test(arguments: [
        ("garbage", "#!/bin/sh\necho garbage\n", "did not answer one JSON"),
        ("crash", "#!/bin/sh\ncat >/dev/null\nkill -SEGV $$\n", "crashed"),
        ("huge", "#!/bin/sh\nhead -c 200000 /dev/zero\n", "more than"),
    ])
    func misbehavingPluginsAreUnknownAndKeepTheirCandidate(name: String, script: String, expected: String) async throws {
        try await Harness.make().run { api in
            let (e, file) = try await Self.setup(api, plugin: name, script: script)
            let before = try String(contentsOfFile: file, encoding: .utf8)
            let r = try await api.call(.put, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin,
                json: ["resetType": "remote", "newPassword": L.new])
            let id = try #require(r.object["taskId"] as? String, "\(r.text)")
            // The plugin held the new password and then misbehaved: nothing says the target refused it.
            var t: [String: Any] = [:]
            for _ in 0..<300 {
                t = try await api.call(.get, "/tasks/\(id)", token: e.admin).object
                if t["state"] as? String == "unknown" { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(t["state"] as? String == "unknown" && t["phase"] as? String == "reconcile", "\(t)")
            let audit = try await api.call(.get, "/audit?accountId=\(e.aid)&operation=reset_attempt", token: e.admin).array
            #expect(audit.contains { ($0["message"] as? String ?? "").contains(expected) }, "\(audit)")
            let answer = try await api.call(.get, "/resources/\(e.rid)/accounts/\(e.aid)/password", token: e.admin).object
            #expect(answer["password"] as? String == L.old, "the vault keeps the old password")
            #expect((answer["candidates"] as? [[String: Any]])?.map { $0["password"] as? String } == [L.new], "and the new one as a candidate")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == before)
        }
    }

    @Test func anExecutableChangedAfterApprovalDoesNotRun() async throws {
        try await Harness.make().run { api in
            let e = try await L.setup(api)
            let path = e.dir + "/listener.sh"
            try "#!/bin/sh\ntouch \(e.dir)/ran\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o700)
            let l = try await api.call(.post, "/listeners", token: e.admin, json: ["name": "exe", "kind": "script", "resourceTypes": ["Linux"],
                "executable": path, "approver": "admin2"])
            try await api.call(.post, "/listeners/\(try #require(l.object["id"] as? String))/approve", token: e.admin2)
            try "#!/bin/sh\ntouch \(e.dir)/tampered\n".write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o700)
            try await L.change(api, e)
            let run = try #require(try await L.runs(api, count: 1).first)
            #expect(run.0 == "failure" && run.1.contains("changed since it was approved"), "\(run.1)")
            #expect(!FileManager.default.fileExists(atPath: e.dir + "/tampered"))
        }
    }
}
