import Foundation
import ResetPlugins
import Shared
import TestSupport
import Testing

@testable import Server
@testable import ServerTestSupport

/// Trust II: a login name is never expanded by a shell, and a host key is pinned on first contact. `a$USER` is refused everywhere (API,
/// Unix, devices, the agent) with one code, and a machine account's trailing `$` reaches passwd quoted.
@Suite(.needsTestTargets) struct LoginNameAttackTests {
    typealias T = TestTargets

    @Test func anAccountNamedLikeAShellVariableIsRefusedAndChangesNobodyElse() async throws {
        // su's shell has USER=root: unquoted, `passwd a$USER` would change `aroot`.
        T.user("aroot", "Aroot-Keep-Pass-1")
        try await Harness.make().run { api in
            let s = try await ResetEngineTests.setup(api, target: "lnvictim", password: "Victim-Pass-1")
            let aid = try await api.account(s.rid, "a$USER", password: "Whatever-Pass-1", token: s.admin)
            let q = try await api.call(.put, "/resources/\(s.rid)/accounts/\(aid)/password", token: s.admin,
                json: ["resetType": "remote", "newPassword": "Attacker-Pass-123!"])
            #expect(q.status == .badRequest && q.errorCode == "invalid_login_name", "\(q.text)")
            let v = try await api.call(.post, "/resources/\(s.rid)/accounts/\(aid)/verify", token: s.admin)
            #expect(v.errorCode == "invalid_login_name")
        }
        #expect(T.passwordWorks("aroot", "Aroot-Keep-Pass-1"))
        // The plugins refuse it themselves too, before connecting, with the same code.
        let job = T.job("a$USER", current: "x", new: "Attacker-Pass-123!", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)), root: .init(loginName: T.rootUser, password: Secret(T.rootPassword)))
        #expect(await failure { () throws(ResetFailure) in _ = try await UnixPlugin().reset(job) }?.code == .unsupported)
        for name in ["a$USER", "-rf", "a b", "x;id", "a'b", "$", "a`id`"] {
            #expect(throws: ResetFailure.self, "\(name)") { try LoginName.check(name) }
        }
        for name in ["root", "svc.app-1", "ops@example.test", "HOST01$"] { try LoginName.check(name) }
        #expect(T.passwordWorks("aroot", "Aroot-Keep-Pass-1"))
    }

    /// Trust II: the host key is pinned on first contact of any kind, a verify included.
    @Test func aVerifyOnFirstContactPinsTheHostKey() async throws {
        try await Harness.make().run { api in
            let s = try await ResetEngineTests.setup(api, target: "pinverify", password: "Pin-Verify-Pass-1")
            #expect(try await api.call(.get, "/resources/\(s.rid)/reset-config", token: s.admin).object["hostKey"] == nil)
            let v = try await api.call(.post, "/resources/\(s.rid)/accounts/\(s.aid)/verify", token: s.admin)
            let done = try await Fixtures.waitTask(api, try #require(v.object["taskId"] as? String), token: s.admin)
            #expect(done["state"] as? String == "succeeded", "\(done)")
            #expect(try await api.call(.get, "/resources/\(s.rid)/reset-config", token: s.admin).object["hostKey"] as? String == T.ready.hostKey)
            let audit = try await api.call(.get, "/audit?operation=pin_host_key", token: s.admin).array
            #expect(audit.count == 1)
        }
    }

    @Test func aMachineAccountsTrailingDollarReachesPasswdQuoted() async throws {
        let user = T.target("mach$", password: "Mach-Old-Pass-1")
        _ = try await UnixPlugin().reset(T.job(user, current: "Mach-Old-Pass-1", new: "Mach-New-Pass-2", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)), root: .init(loginName: T.rootUser, password: Secret(T.rootPassword))))
        #expect(T.passwordWorks(user, "Mach-New-Pass-2"))
    }
}
