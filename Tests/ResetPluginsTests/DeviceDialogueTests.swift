import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// The device dialogues in memory: a scripted Cisco IOS, written from Cisco's documented prompts
/// and messages, answers what a dialect types, beside the tests against the device emulators.
/// Each scripted reply begins with the echo of the line typed (a hidden secret echoes only its newline).
@Suite struct DeviceDialogueTests {
    static let library = try! DialectLibrary.load()
    static let new = "New-Pass-5678", enable = "Enable-Secret-1", login = "Help-Pass-1"

    func session(_ replies: [String], greeting: String = "\r\nUser Access Verification\r\n\r\nRouter>") throws
        -> (DeviceSession, ScriptedTransport)
    {
        let dialect = try #require(Self.library.dialects["cisco-ios"])
        let t = ScriptedTransport(greeting: [greeting], replies: replies)
        let p = PromptSession(transport: t, secrets: [Secret(Self.new), Secret(Self.enable), Secret(Self.login)], timeout: 2)
        let values = DeviceSession.Values(user: "ops", new: Secret(Self.new), current: nil, enable: Secret(Self.enable))
        return (DeviceSession(prompt: p, transport: t, dialect: dialect, values: values, overrides: [:]), t)
    }

    /// Logged in (the prompt was there), paging off, enable, configuration mode.
    static let upToConfig = [
        "terminal length 0\r\nRouter>", "terminal width 511\r\nRouter>", "enable\r\nPassword: ", "\r\nRouter#",
        "configure terminal\r\nEnter configuration commands, one per line.  End with CNTL/Z.\r\nRouter(config)#",
    ]

    func change(_ s: DeviceSession) async throws(ResetFailure) {
        try await s.login(user: "helpdesk", password: Secret(Self.login), sendName: true, telnet: false)
        try await s.pagingIfDue()
        try await s.run(s.dialect.change["user"]!, errorCode: .rejectedByTarget, what: "the change")
    }

    @Test func aLocalUserIsChangedInConfigurationModeAfterEnable() async throws {
        let (s, t) = try session(Self.upToConfig + ["username ops secret \(Self.new)\r\nRouter(config)#"])
        try await change(s)
        #expect(s.dialect.modes[s.mode].name == "config")
        let typed = t.writtenText.split(separator: "\n").map(String.init)
        #expect(typed == ["terminal length 0", "terminal width 511", "enable", Self.enable, "configure terminal", "username ops secret \(Self.new)"])
    }

    @Test func aRefusedPasswordIsRejectedByTargetWithTheDevicesWordsAndNoSecret() async throws {
        let (s, _) = try session(Self.upToConfig + ["username ops secret \(Self.new)\r\n% Password too short\r\nRouter(config)#"])
        do throws(ResetFailure) {
            try await change(s)
            Issue.record("a refused change succeeded")
        } catch {
            #expect(error.code == .rejectedByTarget && error.message.contains("Password too short"), "\(error)")
            #expect(!error.message.contains(Self.new) && !error.message.contains(Self.enable))
            #expect(s.refused, "the device's refusal is definite")
        }
    }

    @Test func aWrongEnableSecretIsPermissionDeniedBeforeAnythingChanges() async throws {
        let (s, t) = try session(Array(Self.upToConfig.prefix(3)) + ["\r\n% Bad secrets\r\n\r\nRouter>"])
        do throws(ResetFailure) {
            try await change(s)
            Issue.record("entered enable with a wrong secret")
        } catch {
            #expect(error.code == .permissionDenied && error.message.contains("Bad secrets"), "\(error)")
            #expect(!t.writtenText.contains("username"), "nothing was typed towards a change")
        }
    }

    @Test func anInvalidCommandMidDialogueIsADefiniteRefusal() async throws {
        let (s, _) = try session(Self.upToConfig + ["username ops secret \(Self.new)\r\n                  ^\r\n% Invalid input detected at '^' marker.\r\n\r\nRouter(config)#"])
        do throws(ResetFailure) {
            try await change(s)
            Issue.record("an invalid command succeeded")
        } catch {
            #expect(error.code == .rejectedByTarget && error.message.contains("Invalid input"), "\(error)")
            #expect(!error.message.contains(Self.new))
        }
    }
}
