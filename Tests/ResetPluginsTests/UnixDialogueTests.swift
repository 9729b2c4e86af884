import Foundation
import Shared
import Testing

@testable import ResetPlugins

/// The Unix plugin's dialogues in memory: a scripted conversation with passwd as Solaris, AIX, a
/// German Linux and a refusing PAM print it, beside the tests against the real sshd.
@Suite struct UnixDialogueTests {
    /// Hands the plugin a logged-in session over `transport`.
    struct ScriptedConnector: UnixConnector {
        let transport: ScriptedTransport
        func login(_ job: ResetJob, user: String, credential: LoginCredential, shell: Bool) async throws(ResetFailure) -> OpenedSession {
            let p = PromptSession(transport: transport, secrets: job.secrets, timeout: 3)
            p.track(job)
            return OpenedSession(prompt: p, hostKey: nil, transport: transport)
        }
    }

    static let current = "Old-Pass-1234", new = "New-Pass-5678"

    static func job() -> ResetJob {
        ResetJob(operation: .reset, resource: ["RESOURCENAME": "web01", "IPADDRESS": "192.0.2.10"], account: ["LOGINNAME": "ct_x"],
            currentPassword: Secret(current), newPassword: Secret(new), settings: ResetSettings())
    }

    /// Runs a self-change against `greeting` and one reply per line Custody types.
    func selfChange(_ greeting: String, _ replies: [String]) async -> (Result<ResetReport, ResetFailure>, ScriptedTransport) {
        let t = ScriptedTransport(greeting: [greeting], replies: replies)
        let plugin = UnixPlugin(connector: ScriptedConnector(transport: t))
        do throws(ResetFailure) { return (.success(try await plugin.reset(Self.job())), t) } catch { return (.failure(error), t) }
    }

    /// The lines typed after the passwd command: secrets by name.
    func typed(_ t: ScriptedTransport) -> [String] {
        let lines = t.writtenText.split(separator: "\n").map(String.init)
        return lines.drop { !$0.hasPrefix("passwd") }.dropFirst().map { $0 == Self.current ? "current" : $0 == Self.new ? "new" : $0 }
    }

    static let sync = "CUSTODY_SYNC1\n$ "

    @Test func solarisAsksForTheExistingPasswordAndSaysSuccessfullyChanged() async throws {
        let (r, t) = await selfChange("Last login: Tue Dec  1 09:12:01 2026\n$ ", [Self.sync,
            "passwd: Changing password for ct_x\nEnter existing login password: ", "\nNew Password: ", "\nRe-enter new Password: ",
            "\npasswd: password successfully changed for ct_x\nCUSTODY_RC=0\n$ "])
        #expect(try r.get().message == "password of ct_x changed")
        #expect(typed(t) == ["current", "new", "new"])
    }

    @Test func aGermanLinuxIsAnsweredInItsOwnWords() async throws {
        let (r, t) = await selfChange("$ ", [Self.sync,
            "Ändern des Passworts für ct_x.\nAktuelles Passwort: ", "\nNeues Passwort: ", "\nGeben Sie das neue Passwort erneut ein: ",
            "\npasswd: Passwort erfolgreich geändert\nCUSTODY_RC=0\n$ "])
        #expect(try r.get().message == "password of ct_x changed")
        #expect(typed(t) == ["current", "new", "new"])
    }

    @Test func aRefusedPasswordIsRejectedByTargetWithItsReasonAndNoSecret() async throws {
        let bad = "BAD PASSWORD: The password fails the dictionary check - it is based on a dictionary word\n"
        let (r, t) = await selfChange("$ ", [Self.sync, "Changing password for ct_x.\nCurrent password: ", "\nNew password: ",
            "\n" + bad + "New password: ", "\n" + bad + "New password: "])
        guard case .failure(let f) = r else { Issue.record("a refused change succeeded"); return }
        #expect(f.code == .rejectedByTarget && f.message.contains("dictionary"), "\(f)")
        #expect(!f.message.contains(Self.current) && !f.message.contains(Self.new))
        #expect(t.written.contains(0x03), "passwd is interrupted, not left waiting")
    }

    @Test func anExpiredPasswordIsChangedInTheDialogueTheSystemStartsAtLogin() async throws {
        let (r, t) = await selfChange("WARNING: Your password has expired.\nYou must change your password now and login again!\n"
            + "Current password: ", ["New password: ", "Retype new password: ", "passwd: all authentication tokens updated successfully.\n"])
        #expect(try r.get().message == "expired password of ct_x changed at login")
        #expect(!t.writtenText.contains("passwd;"), "no passwd of its own")
    }

    @Test func aCurrentPasswordAskedForAfterTheNewOneIsAProtocolErrorNotASend() async throws {
        let (r, t) = await selfChange("$ ", [Self.sync, "Old password: ", "\nNew password: ", "\nOld password: "])
        guard case .failure(let f) = r else { Issue.record("succeeded"); return }
        #expect(f.code == .protocolError, "\(f)")
        #expect(typed(t) == ["current", "new"], "the current password is not typed where a new one may be read")
    }
}
