import Foundation
import GRDB
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// Engine rules that a real target cannot be made to show on demand, driven by a scripted plugin.
@Suite struct TaskEngineTests {

    func harness(_ plugin: ScriptedPlugin, configure: @escaping (inout ServerConfiguration) -> Void = { _ in }) async throws -> Harness {
        let base = try await Harness.make(configure: configure)
        let c = base.custody
        let custody = Custody(config: c.config, store: c.store, vault: c.vault, logger: c.logger, plugins: PluginRegistry(plugins: ["unix": plugin]))
        return Harness(custody: custody, dataDir: base.dataDir)
    }

    func setup(_ api: API, accounts: Int = 1) async throws -> (String, String, [String]) {
        let admin = try await api.admin()
        let rid = try await api.resource("scripted", token: admin)
        var ids: [String] = []
        for i in 0..<accounts { ids.append(try await api.account(rid, "user\(i)", password: "Start-Pass-\(i)", token: admin)) }
        try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "ssh"])
        return (admin, rid, ids)
    }

    @Test func aGeneratedPasswordTheTargetRejectsIsRegeneratedNotRetried() async throws {
        let plugin = ScriptedPlugin(failures: 2, code: .rejectedByTarget)
        let h = try await harness(plugin)
        try await h.run { api in
            let (admin, rid, ids) = try await setup(api)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/password", token: admin, json: ["resetType": "remote"])
            // Bounded waits, not one timed wait: a loaded machine stalls the pool at suite start.
            let t = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: admin)
            #expect(t["state"] as? String == "succeeded")
            #expect(plugin.passwordsTried.count == 3)
            #expect(Set(plugin.passwordsTried).count == 3, "each attempt must use a fresh password")
        }
    }

    @Test func aGivenPasswordTheTargetRejectsFailsAtOnce() async throws {
        let plugin = ScriptedPlugin(failures: 1, code: .rejectedByTarget)
        let h = try await harness(plugin)
        try await h.run { api in
            let (admin, rid, ids) = try await setup(api)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/password", token: admin,
                json: ["resetType": "remote", "newPassword": "Given-Pass-1234!"])
            // Bounded waits, not one timed wait: a loaded machine stalls the pool at suite start.
            let t = try await Fixtures.waitTask(api, try #require(q.object["taskId"] as? String), token: admin)
            #expect(t["state"] as? String == "failed")
            #expect(plugin.passwordsTried.count == 1)
        }
    }

    @Test func anUnreachableTargetIsRetriedWithBackOffThenSucceeds() async throws {
        let plugin = ScriptedPlugin(failures: 2, code: .unreachable)
        let h = try await harness(plugin, configure: { $0.resetRetrySeconds = 0.2 })
        try await h.run { api in
            let (admin, rid, ids) = try await setup(api)
            let q = try await api.call(.put, "/resources/\(rid)/accounts/\(ids[0])/password", token: admin, json: ["resetType": "remote"])
            let t = try await api.call(.get, "/tasks/\(try #require(q.object["taskId"] as? String))?wait=60", token: admin).object
            #expect(t["state"] as? String == "succeeded", "\(t)")
            #expect(plugin.passwordsTried.count == 3)
        }
    }

    @Test func theEngineNeverRunsMoreThanThePerHostLimitAgainstOneHost() async throws {
        // Each change lasts long enough for the next requests to overlap it even on a loaded machine.
        let plugin = ScriptedPlugin(delay: .milliseconds(1500))
        let h = try await harness(plugin, configure: { $0.resetPerHostLimit = 2; $0.resetWorkers = 8 })
        try await h.run { api in
            let (admin, rid, ids) = try await setup(api, accounts: 8)
            var tasks: [String] = []
            for aid in ids {
                let q = try await api.call(.put, "/resources/\(rid)/accounts/\(aid)/password", token: admin, json: ["resetType": "remote"])
                tasks.append(try #require(q.object["taskId"] as? String))
            }
            for t in tasks {
                #expect(try await api.call(.get, "/tasks/\(t)?wait=30", token: admin).object["state"] as? String == "succeeded")
            }
            #expect(plugin.maxRunning == 2)
        }
    }
}
