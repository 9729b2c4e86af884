import AgentPlugins
import Crypto
import Foundation
import NIOConcurrencyHelpers
import Shared
import Testing

/// The Windows agent plugin's logic, on Linux: jobs sealed to the agent as the server seals them,
/// opened and run by the agent's job runner, against a double of the two Win32 calls that keeps
/// the machine's local accounts and answers with the documented status codes.
@Suite struct WindowsPluginTests {
    /// A Windows machine's local accounts: `NetUserSetInfo` and `LogonUserW` as they answer.
    final class FakeWindows: WindowsAccounts, @unchecked Sendable {
        let state: NIOLockedValueBox<[String: String]>
        var denySet = false
        var disabled: Set<String> = []
        var minimumLength = 0
        init(_ users: [String: String]) { state = NIOLockedValueBox(users) }

        func setPassword(user: String, to password: Secret) -> UInt32 {
            if denySet { return WindowsStatus.accessDenied }
            return state.withLockedValue { users in
                guard users[user] != nil else { return WindowsStatus.userNotFound }
                guard password.reveal().count >= minimumLength else { return WindowsStatus.passwordTooShort }
                users[user] = password.reveal()
                return WindowsStatus.success
            }
        }

        func logon(user: String, password: Secret) -> UInt32? {
            state.withLockedValue { users in
                guard let stored = users[user], stored == password.reveal() else { return WindowsStatus.logonFailure }
                return disabled.contains(user) ? WindowsStatus.accountDisabled : nil
            }
        }

        func password(_ user: String) -> String? { state.withLockedValue { $0[user] } }
    }

    let agentKey = Curve25519.KeyAgreement.PrivateKey()

    /// A job as the server sends it: the `ResetJob` encoded with its secrets, sealed to the agent.
    func sealed(_ op: ResetJob.Operation, user: String, current: String?, new: String? = nil) throws -> AgentJob {
        let job = ResetJob(operation: op, resource: ["RESOURCENAME": "win01"], account: ["LOGINNAME": user],
            currentPassword: current.map(Secret.init), newPassword: new.map(Secret.init), settings: ResetSettings(port: 0))
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealKey] = true
        let id = UUID().uuidString
        let (key, box) = try AgentWire.seal(Array(try encoder.encode(job)), to: agentKey.publicKey, jobID: id)
        return AgentJob(id: id, leaseId: "lease", leaseSeconds: 60, operation: op.rawValue, encapsulatedKey: key, ciphertext: box)
    }

    @Test func aResetChangesTheLocalAccountAndAVerifyProvesIt() async throws {
        let windows = FakeWindows(["Administrator": "Old-Pass-1!", "svc_backup": "Svc-Old-2!"])
        let runner = AgentJobRunner(plugin: WindowsLocalPlugin(accounts: windows))
        let reset = await runner.execute(try sealed(.reset, user: "svc_backup", current: "Svc-Old-2!", new: "Svc-New-3!"), sealing: agentKey)
        #expect(reset.ok, "\(reset)")
        #expect(windows.password("svc_backup") == "Svc-New-3!" && windows.password("Administrator") == "Old-Pass-1!", "only that account")
        #expect(await runner.execute(try sealed(.verify, user: "svc_backup", current: "Svc-New-3!"), sealing: agentKey).ok)
        let stale = await runner.execute(try sealed(.verify, user: "svc_backup", current: "Svc-Old-2!"), sealing: agentKey)
        #expect(!stale.ok && stale.code == ResetFailure.Code.authenticationFailed.rawValue)
    }

    /// Each refusal means what the fault rules need: a definite "not changed" where Windows says
    /// so, and no password in any message.
    @Test func refusalsAreDefiniteAndCarryNoPassword() async throws {
        let windows = FakeWindows(["svc": "Svc-Old-2!"])
        let runner = AgentJobRunner(plugin: WindowsLocalPlugin(accounts: windows))
        func reset(_ user: String, _ new: String) async throws -> PluginResponse {
            await runner.execute(try sealed(.reset, user: user, current: "Svc-Old-2!", new: new), sealing: agentKey)
        }
        let missing = try await reset("nobody", "Missing-Pass-9!")
        #expect(missing.code == ResetFailure.Code.rejectedByTarget.rawValue && missing.message?.contains("Missing-Pass-9!") == false)
        windows.minimumLength = 20
        let short = try await reset("svc", "Short-Pass-8!")
        #expect(short.code == ResetFailure.Code.rejectedByTarget.rawValue && short.message?.contains("Short-Pass-8!") == false)
        windows.minimumLength = 0
        windows.denySet = true
        let denied = try await reset("svc", "Denied-Pass-7!")
        #expect(denied.code == ResetFailure.Code.permissionDenied.rawValue)
        #expect(windows.password("svc") == "Svc-Old-2!", "nothing changed")
        windows.disabled = ["svc"]
        let disabled = await runner.execute(try sealed(.verify, user: "svc", current: "Svc-Old-2!"), sealing: agentKey)
        #expect(!disabled.ok && disabled.message?.contains("cannot log on") == true)
        let badName = try await reset("svc\nroot", "Name-Pass-6!")
        #expect(!badName.ok)
    }

    /// A job sealed to another agent, or altered on the way, is not run.
    @Test func aJobThisAgentCannotOpenIsNotRun() async throws {
        let windows = FakeWindows(["svc": "Svc-Old-2!"])
        var job = try sealed(.reset, user: "svc", current: "Svc-Old-2!", new: "Svc-New-3!")
        job.id = "another-job"
        let answer = await AgentJobRunner(plugin: WindowsLocalPlugin(accounts: windows)).execute(job, sealing: agentKey)
        #expect(answer.code == ResetFailure.Code.protocolError.rawValue)
        #expect(windows.password("svc") == "Svc-Old-2!")
    }
}
