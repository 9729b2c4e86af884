import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

@Suite(.needsTestTargets) struct UnixPluginSSHTests {
    let plugin = UnixPlugin()
    typealias T = TestTargets

    @Test func verifyLogsInWithTheStoredPasswordAndMapsAWrongOneToAuthenticationFailed() async throws {
        let user = T.target("verify1", password: "Verify-Pass-1")
        try await plugin.verify(T.job(user, current: "Verify-Pass-1"))
        await #expect { try await plugin.verify(T.job(user, current: "Wrong-Pass-1")) } throws: {
            ($0 as? ResetFailure)?.code == .authenticationFailed
        }
    }

    @Test func aSelfChangeGoesThroughPasswdWithTheCurrentPassword() async throws {
        let user = T.target("self1", password: "Self-Old-Pass-1")
        let report = try await plugin.reset(T.job(user, current: "Self-Old-Pass-1", new: "Self-New-Pass-2x"))
        #expect(report.learnedHostKey == T.ready.hostKey)
        #expect(T.passwordWorks(user, "Self-New-Pass-2x"))
    }

    @Test func suWithTheRootAccountChangesAnotherUsersPassword() async throws {
        let user = T.target("su1", password: "Su-Old-Pass-1")
        try await plugin.reset(T.job(user, current: "Su-Old-Pass-1", new: "Su-New-Pass-2", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)),
            root: .init(loginName: T.rootUser, password: Secret(T.rootPassword))))
        #expect(T.passwordWorks(user, "Su-New-Pass-2"))
    }

    @Test func sudoWithTheLoginAccountsPasswordChangesAnotherUsersPassword() async throws {
        let user = T.target("sudo1", password: "Sudo-Old-Pass-1")
        try await plugin.reset(T.job(user, current: "Sudo-Old-Pass-1", new: "Sudo-New-Pass-2", elevation: .sudo,
            login: .init(loginName: T.sudoUser, password: Secret(T.sudoPassword))))
        #expect(T.passwordWorks(user, "Sudo-New-Pass-2"))
    }
}

@Suite(.needsTestTargets) struct ExpiredPasswordTests {
    typealias T = TestTargets

    @Test func anExpiredPasswordIsChangedThroughTheDialogueTheSystemForcesAtLogin() async throws {
        let user = T.target("expired1", password: "Expired-Old-Pass-1")
        T.sh("chage -d 0 \(user)")
        let report = try await UnixPlugin().reset(T.job(user, current: "Expired-Old-Pass-1", new: "Expired-New-Pass-2x"))
        #expect(report.message.contains("expired"))
        #expect(T.passwordWorks(user, "Expired-New-Pass-2x"))
        #expect(T.sh("chage -l \(user) | grep -c 'must be changed'") == "0")
    }
}

@Suite(.needsTestTargets) struct KeyboardInteractiveTests {
    typealias T = TestTargets

    func onKbdServer(_ job: ResetJob) -> ResetJob {
        var j = job
        j.settings.port = T.kbdPort
        return j
    }

    @Test func aServerWithoutThePasswordMethodIsLoggedIntoByKeyboardInteractive() async throws {
        let user = T.target("kbd1", password: "Kbd-Pass-1")
        try await UnixPlugin().verify(onKbdServer(T.job(user, current: "Kbd-Pass-1")))
        await #expect { try await UnixPlugin().verify(onKbdServer(T.job(user, current: "Kbd-Wrong-1"))) } throws: {
            ($0 as? ResetFailure)?.code == .authenticationFailed
        }
        _ = try await UnixPlugin().reset(onKbdServer(T.job(user, current: "Kbd-Pass-1", new: "Kbd-New-Pass-2x")))
        #expect(T.passwordWorks(user, "Kbd-New-Pass-2x"))
    }

    @Test func anExpiredPasswordIsChangedInsideKeyboardInteractiveAuthentication() async throws {
        let user = T.target("kbdexp", password: "Kbd-Exp-Old-1")
        T.sh("chage -d 0 \(user)")
        let report = try await UnixPlugin().reset(onKbdServer(T.job(user, current: "Kbd-Exp-Old-1", new: "Kbd-Exp-New-2x")))
        #expect(report.message.contains("during login"))
        #expect(T.passwordWorks(user, "Kbd-Exp-New-2x"))
        // a verify must never change anything: an expired account fails it instead
        let other = T.target("kbdexp2", password: "Kbd-Exp2-Old-1")
        T.sh("chage -d 0 \(other)")
        await #expect { try await UnixPlugin().verify(onKbdServer(T.job(other, current: "Kbd-Exp2-Old-1"))) } throws: {
            ($0 as? ResetFailure)?.code == .authenticationFailed
        }
        #expect(T.passwordWorks(other, "Kbd-Exp2-Old-1"))
    }

    /// The new password was typed into the expired-password change; the login then failed. That is
    /// no refusal that proves nothing changed: the state machine must reconcile.
    @Test func aFailureAfterTheExpiredChangeWasAnsweredIsNotDefinite() async throws {
        let user = T.target("kbdexp3", password: "Kbd-Exp3-Old-1")
        T.sh("chage -d 0 \(user)")
        var job = onKbdServer(T.job(user, current: "Kbd-Exp3-Old-1", new: "Kbd-Exp3-Old-1"))  // PAM refuses an unchanged password
        job.exposure = ResetExposure()
        let e = await failure { [job] () throws(ResetFailure) in _ = try await UnixPlugin().reset(job) }
        #expect(job.exposure?.reached == true, "the new password was answered to the change prompt")
        #expect(e != nil && ![.rejectedByTarget, .authenticationFailed, .permissionDenied].contains(e!.code), "\(String(describing: e))")
        #expect(T.passwordWorks(user, "Kbd-Exp3-Old-1"))
    }
}

@Suite(.needsTestTargets) struct SSHConnectionTests {
    typealias T = TestTargets

    @Test func legacyAlgorithmsAreUsedOnlyWhenTheResourceOptsIn() async throws {
        let user = T.target("legacy1", password: "Legacy-Pass-1")
        var job = T.job(user, current: "Legacy-Pass-1")
        job.settings.port = T.legacyPort
        await #expect { try await UnixPlugin().verify(job) } throws: { ($0 as? ResetFailure)?.code == .protocolError }
        job.settings.legacyAlgorithms = true
        try await UnixPlugin().verify(job)
    }

    @Test func execRunsOneCommandAndReadsItsOutput() async throws {
        let user = T.target("exec1", password: "Exec-Pass-1")
        let ssh = try await SSHConnection.connect(SSHConnection.Options(host: "127.0.0.1", port: T.sshPort))
        try await ssh.authenticate(user: user, .password(Secret("Exec-Pass-1")))
        try await ssh.exec("id -un")
        var out: [UInt8] = []
        reading: for _ in 0..<50 {
            switch try await ssh.read(timeout: 0.2) {
            case .data(let d): out += d
            case .closed: break reading
            case .timeout: continue
            }
        }
        await ssh.close()
        #expect(String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) == user)
    }
}
