import Crypto
import Foundation
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// One target of the fault matrix, ready to reset: how to tell which password works on it.
struct MatrixTarget: Sendable {
    let admin, rid, aid: String
    let works: @Sendable (String) -> Bool
    var stop: @Sendable () -> Void = {}
    /// The agent family: an agent that serves the resource's jobs while a server runs.
    var agent: (@Sendable (API) -> Task<Void, Never>)? = nil

    func startAgent(_ api: API) -> Task<Void, Never>? { agent?(api) }
}

/// The plugin families of the matrix, each on the real server (or emulator) the suite starts.
enum MatrixFamily: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case unixSSH, unixTelnet, networkDevice, ldap, mysql, postgresql, externalPlugin, agent
    var testDescription: String { rawValue }
    typealias T = TestTargets

    func prepare(_ api: API, _ h: Harness) async throws -> MatrixTarget? {
        let name = "mx\(UUID().uuidString.prefix(6).lowercased())"
        switch self {
        case .unixSSH:
            guard T.ready.available else { return Self.missing(self) }
            let s = try await ResetEngineTests.setup(api, target: name, password: "Mx-Start-Pass-1")
            return MatrixTarget(admin: s.admin, rid: s.rid, aid: s.aid, works: { T.passwordWorks(s.user, $0) })
        case .unixTelnet:
            guard T.telnetAvailable else { return Self.missing(self) }
            let admin = try await api.admin()
            let user = T.target(name, password: "Mx-Start-Pass-1")
            let rid = try await api.resource("tel-\(name)", token: admin)
            try await api.call(.patch, "/resources/\(rid)", token: admin, json: ["dnsName": "127.0.0.1"])
            let aid = try await api.account(rid, user, password: "Mx-Start-Pass-1", token: admin)
            try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agentless", "protocol": "telnet", "port": T.telnetPort])
            return MatrixTarget(admin: admin, rid: rid, aid: aid, works: { T.passwordWorks(user, $0) })
        case .networkDevice:
            guard DeviceEmulator.available else { return Self.missing(self) }
            let emu = try DeviceEmulator(family: "ios", users: NetworkDeviceServerTests.users, flags: ["--enable-secret", "Enable-Secret-1"])
            let (admin, rid, aid) = try await NetworkDeviceServerTests.setup(api, emu, config: ["copyToStartup": false])
            return MatrixTarget(admin: admin, rid: rid, aid: aid, works: { emu.password("ops") == $0 }, stop: { emu.stop() })
        case .ldap, .mysql, .postgresql:
            let kind = DirectoryDatabaseTests.Kind(rawValue: rawValue)!
            guard let t = DirectoryDatabaseTests.target(kind, name, "Start-Pass-123") else { return Self.missing(self) }
            let (admin, rid, aid) = try await DirectoryDatabaseTests.setup(api, t)
            return MatrixTarget(admin: admin, rid: rid, aid: aid, works: t.works)
        case .externalPlugin:
            let t = try await ScriptTarget.make(api)
            return MatrixTarget(admin: t.env.admin, rid: t.env.rid, aid: t.env.aid, works: { t.password == $0 })
        case .agent:
            return try await Self.agentTarget(api, h, name)
        }
    }

    static func missing(_ f: MatrixFamily) -> MatrixTarget? {
        Issue.record("the \(f) test server did not start")
        return nil
    }

    /// A resource in mode agent, bound by its bundle to an agent that this test plays: it keeps
    /// the account's password in a file and changes it when a job says so.
    static func agentTarget(_ api: API, _ h: Harness, _ name: String) async throws -> MatrixTarget {
        let p = AgentClient()
        let admin = try await api.admin()
        let rid = try await api.resource("agent-\(name)", token: admin)
        let aid = try await api.account(rid, "svc", password: "Agent-Start-1", token: admin)
        var fake = FakeAgent()
        #expect(try await p.enroll(api, try await p.token(api, admin, h, resourceId: rid), &fake, at: Date()).status == .created)
        #expect(try await api.call(.put, "/resources/\(rid)/reset-config", token: admin, json: ["mode": "agent"]).status == .ok)
        let file = NSTemporaryDirectory() + "agent-target-\(name)"
        try "Agent-Start-1".write(toFile: file, atomically: true, encoding: .utf8)
        let works: @Sendable (String) -> Bool = { (try? String(contentsOfFile: file, encoding: .utf8)) == $0 }
        let agent = fake
        return MatrixTarget(admin: admin, rid: rid, aid: aid, works: works, agent: { api in
            Task { await serve(api, agent, file: file) }
        })
    }

    /// The agent's loop: poll, take, run against the file, answer.
    static func serve(_ api: API, _ agent: FakeAgent, file: String) async {
        let p = AgentClient()
        while !Task.isCancelled {
            guard let r = try? await p.send(api, "/poll", PollRequest(wait: 1, version: "t"), as: agent, at: Date()),
                let jobs = try? JSONDecoder().decode(PollResponse.self, from: r.data).jobs
            else {
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            for job in jobs {
                guard (try? await p.send(api, "/jobs/\(job.id)/renew", LeaseRequest(leaseId: job.leaseId), as: agent, at: Date()))?.status == .ok,
                    let plain = try? AgentWire.open(job, with: agent.sealing), let j = try? JSONDecoder().decode(ResetJob.self, from: plain)
                else { continue }
                let held = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
                let response: PluginResponse
                if j.currentPassword?.reveal() != held {
                    response = .failure(ResetFailure(.authenticationFailed, "wrong password"))
                } else if j.operation == .reset, let new = j.newPassword {
                    try? new.reveal().write(toFile: file, atomically: true, encoding: .utf8)
                    response = .success("changed")
                } else {
                    response = .success("ok")
                }
                _ = try? await p.send(api, "/jobs/\(job.id)/result", ResultRequest(leaseId: job.leaseId, response: response), as: agent, at: Date())
            }
        }
    }
}
