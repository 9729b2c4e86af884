import Foundation
import ResetPlugins
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Network devices through the API and the task engine, against the IOS emulator: the enable
/// account and copy to startup from the reset config, a generated password within the dialect's
/// limits, a change whose answer was lost reconciled, and resource types bound to a dialect.
@Suite(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available), .serialized)
struct NetworkDeviceServerTests {
    static let users = ["helpdesk:Help-Pass-1:1", "ops:Ops-Start-1:1"]

    /// A resource of `type` on the emulator with the helpdesk login, the enable account and ops; returns (admin, rid, aid).
    static func setup(_ api: API, _ emu: DeviceEmulator, type: String = "Cisco IOS", config: [String: Any] = [:],
        admin given: String? = nil) async throws -> (String, String, String)
    {
        var admin = given ?? ""
        if given == nil { admin = try await api.admin() }
        let rid = try await api.resource("ios-\(UUID().uuidString.prefix(6))", token: admin, type: type)
        try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["dnsName": "127.0.0.1"])
        _ = try await api.account(rid, "helpdesk", password: "Help-Pass-1", token: admin)
        _ = try await api.account(rid, "enable", password: "Enable-Secret-1", token: admin)
        let aid = try await api.account(rid, "ops", password: "Ops-Start-1", token: admin)
        var body: [String: Any] = ["mode": "agentless", "protocol": "ssh", "port": emu.sshPort, "loginAccount": "helpdesk",
            "enableAccount": "enable", "copyToStartup": true]
        body.merge(config) { $1 }
        let cfg = try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: body)
        #expect(cfg.status == .ok, "\(cfg.text)")
        return (admin, rid, aid)
    }

    static func stored(_ api: API, _ admin: String, _ rid: String, _ aid: String) async throws -> String {
        try #require(try await api.call(.get, "/resources/\(rid)/accounts/\(aid)/password", token: admin).object["password"] as? String)
    }

    static func reset(_ api: API, _ admin: String, _ rid: String, _ aid: String) async throws -> [String: Any] {
        let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
        return try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: admin)
    }

    @Test func aGeneratedPasswordIsSetEnabledCopiedToStartupAndVerified() async throws {
        let emu = try DeviceEmulator(family: "ios", users: Self.users, flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        try await Harness.make().run { api in
            let (admin, rid, aid) = try await Self.setup(api, emu)
            let task = try await Self.reset(api, admin, rid, aid)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            let now = try await Self.stored(api, admin, rid, aid)
            #expect(emu.password("ops") == now && emu.password("ops", in: "startup") == now)
            #expect(now.count <= 25 && !now.contains(" ") && !now.contains("?"), "IOS limits")
            let v = try await api.call(.post, "/resources/\(rid)/accounts/\(aid)/verify", token: admin)
            let verified = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String), token: admin)
            #expect(verified["state"] as? String == "succeeded", "\(verified)")
            // The enable secret itself is an account too.
            let accounts = try await api.call(.get, "/resources/\(rid)/accounts", token: admin).array
            let enable = try #require(accounts.first { $0["loginName"] as? String == "enable" }?["id"] as? String)
            let e = try await Self.reset(api, admin, rid, enable)
            #expect(e["state"] as? String == "succeeded", "\(e)")
            #expect(emu.value("enable_secret") == (try await Self.stored(api, admin, rid, enable)))
        }
    }

    @Test func aChangeWhoseAnswerWasLostIsReconciledToTheNewPassword() async throws {
        let emu = try DeviceEmulator(family: "ios", users: Self.users, flags: ["--enable-secret", "Enable-Secret-1", "--drop-after-change"])
        defer { emu.stop() }
        try await Harness.make(configure: { $0.resetRetrySeconds = 0.2 }).run { api in
            let (admin, rid, aid) = try await Self.setup(api, emu)
            let task = try await Self.reset(api, admin, rid, aid)
            #expect(task["state"] as? String == "succeeded", "\(task)")
            let now = try await Self.stored(api, admin, rid, aid)
            #expect(now != "Ops-Start-1" && emu.password("ops") == now)
        }
    }

    @Test func aResourceTypeCanNameADialectAndAnUnknownDialectIsAClearError() async throws {
        let emu = try DeviceEmulator(family: "ios", users: Self.users, flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        try await Harness.make().run { api in
            let admin = try await api.admin()
            let r = try await api.call(.post, "/resource-types", token: admin, json: ["name": "Lab IOS", "plugin": "dialect:cisco-ios"])
            #expect(r.status == .created, "\(r.text)")
            let bad = try await api.call(.post, "/resource-types", token: admin, json: ["name": "Lab Nothing", "plugin": "dialect:no-such-os"])
            #expect(bad.status == .badRequest && bad.text.contains("no device dialect 'no-such-os'") && bad.text.contains("cisco-ios"), "\(bad.text)")
            // A type whose dialect file has gone since (a changed dialectsDir).
            try await api.harness.custody.store.write { db in
                try db.execute(sql: "INSERT INTO resourceTypes(name, plugin, builtIn) VALUES ('Lab Nothing', 'dialect:no-such-os', 0)")
            }
            let (_, rid, aid) = try await Self.setup(api, emu, type: "Lab IOS", config: ["copyToStartup": false], admin: admin)
            // A user-mode prompt override that never matches: the login times out (not definite, so
            // reconcile tries both passwords with the same prompt), the task fails and nothing changes.
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh",
                "port": emu.sshPort, "loginAccount": "helpdesk", "enableAccount": "enable", "options": ["promptTimeout": "2"],
                "prompts": ["user": "^never-this>"]])
            let stuck = try await Self.reset(api, admin, rid, aid)
            #expect(stuck["state"] as? String == "failed", "\(stuck)")
            #expect(emu.password("ops") == "Ops-Start-1")
            #expect(try await Self.stored(api, admin, rid, aid) == "Ops-Start-1")
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh",
                "port": emu.sshPort, "loginAccount": "helpdesk", "enableAccount": "enable", "accountNameRequired": true])
            let ok = try await Self.reset(api, admin, rid, aid)
            #expect(ok["state"] as? String == "succeeded", "\(ok)")
            #expect(emu.password("ops", in: "startup") == "Ops-Start-1", "copyToStartup is off by default")
            let none = try await api.resource("nothing", token: admin, type: "Lab Nothing")
            try await api.call(.put, "/resources/\(none)/reset-config", token: admin, json: ["mode": "agentless"])
            let acc = try await api.account(none, "ops", password: "Ops-Start-1", token: admin)
            let q = try await api.call(.put, "/resources/\(none)/accounts/\(acc)/password", token: admin, json: ["resetType": "remote"])
            #expect(q.status == .badRequest && q.text.contains("no device dialect"), "\(q.text)")
        }
    }

    @Test func theDialectsOfADirectoryAreListedAndUsableAndABadOneStopsTheServer() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dialects-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ios = try String(contentsOfFile: DialectLibrary.builtInDirectory()! + "/cisco-ios.yaml", encoding: .utf8)
        try ios.replacingOccurrences(of: "id: cisco-ios", with: "id: lab-ios").replacingOccurrences(of: "[Cisco IOS]", with: "[Lab Switch]")
            .write(toFile: dir + "/lab.yaml", atomically: true, encoding: .utf8)
        let base = try await Harness.make()
        let h = Harness(custody: try base.custody.withDialects(dir), dataDir: base.dataDir)
        try await h.run { api in
            let admin = try await api.admin()
            let list = try await api.call(.get, "/dialects", token: admin).array
            #expect(list.count == 8)
            let lab = try #require(list.first { $0["id"] as? String == "lab-ios" })
            #expect(lab["builtIn"] as? Bool == false && lab["resourceTypes"] as? [String] == ["Lab Switch"])
            #expect(list.first { $0["id"] as? String == "juniper-junos" }?["builtIn"] as? Bool == true)
            let r = try await api.call(.post, "/resource-types", token: admin, json: ["name": "Lab Switch", "plugin": "dialect:lab-ios"])
            #expect(r.status == .created, "\(r.text)")
        }
        try "id: broken\nmodes: [".write(toFile: dir + "/broken.yaml", atomically: true, encoding: .utf8)
        #expect { _ = try base.custody.withDialects(dir) } throws: { "\($0)".contains("broken.yaml") }
        let cfg = dir + "/custody.yaml"
        try "dialectsDir: \(dir)\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        let s = ServerProcess(extraArgs: ["--config", cfg])
        #expect(try !s.start(timeout: 20))
        #expect(s.stderr.contains("broken.yaml"), "\(s.stderr)")
        let check = try runCommand(ServerProcess.binary, ["dialect", "check", dir + "/lab.yaml", dir + "/broken.yaml"])
        #expect(check.code == 1 && check.out.contains("ok: lab-ios") && check.err.contains("broken.yaml"), "\(check)")
    }
}
