import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Each failure code of the Unix plugin, produced by the real sshd and the real su, sudo and passwd.
@Suite(.needsTestTargets) struct UnixPluginFailureTests {
    let plugin = UnixPlugin()
    typealias T = TestTargets

    func code(_ job: ResetJob) async -> ResetFailure.Code? {
        do {
            _ = try await plugin.reset(job)
            return nil
        } catch { return error.code }
    }

    @Test func aWrongLoginPasswordIsAuthenticationFailedAndChangesNothing() async throws {
        let user = T.target("f_login", password: "Keep-Pass-1")
        let c = await code(T.job(user, current: "Keep-Pass-1", new: "Other-Pass-2", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret("Wrong-Login-9")), root: .init(loginName: T.rootUser, password: Secret(T.rootPassword))))
        #expect(c == .authenticationFailed)
        #expect(T.passwordWorks(user, "Keep-Pass-1"))
    }

    @Test func aWrongRootPasswordIsPermissionDenied() async throws {
        let user = T.target("f_root", password: "Keep-Pass-1")
        let c = await code(T.job(user, current: "Keep-Pass-1", new: "Other-Pass-2", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)), root: .init(loginName: T.rootUser, password: Secret("Wrong-Root-9"))))
        #expect(c == .permissionDenied)
        #expect(T.passwordWorks(user, "Keep-Pass-1"))
    }

    @Test func sudoNotAllowedIsPermissionDenied() async throws {
        let user = T.target("f_sudo", password: "Keep-Pass-1")
        let c = await code(T.job(user, current: "Keep-Pass-1", new: "Other-Pass-2", elevation: .sudo,
            login: .init(loginName: T.noSudoUser, password: Secret(T.loginPassword))))
        #expect(c == .permissionDenied)
        #expect(T.passwordWorks(user, "Keep-Pass-1"))
    }

    @Test func aWrongSudoPasswordIsPermissionDenied() async throws {
        let user = T.target("f_sudopw", password: "Keep-Pass-1")
        // Log in with a key, so that sudo alone receives the wrong password.
        let keyFile = "\(T.dir)/key-sudo"
        T.sh("rm -f \(keyFile) \(keyFile).pub; ssh-keygen -q -N '' -t ed25519 -f \(keyFile); cp \(keyFile).pub \(T.dir)/keys/\(T.sudoUser)")
        var job = T.job(user, current: "Keep-Pass-1", new: "Other-Pass-2", elevation: .sudo,
            login: .init(loginName: T.sudoUser, password: Secret("Wrong-Sudo-9"), privateKey: Secret(try String(contentsOfFile: keyFile, encoding: .utf8))))
        job.settings.authMethod = .publicKey
        #expect(await code(job) == .permissionDenied)
        #expect(T.passwordWorks(user, "Keep-Pass-1"))
    }

    @Test func aClosedPortIsUnreachable() async throws {
        var job = T.job("nobody", current: "x", new: "Other-Pass-2")
        job.settings.port = 1
        #expect(await code(job) == .unreachable)
        await #expect { try await plugin.verify(job) } throws: { ($0 as? ResetFailure)?.code == .unreachable }
    }

    @Test func aChangedHostKeyIsRefusedBeforeAnyPasswordIsSent() async throws {
        let user = T.target("f_hostkey", password: "Keep-Pass-1")
        let job = T.job(user, current: "Keep-Pass-1", new: "Other-Pass-2", hostKey: "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        #expect(await code(job) == .hostKeyMismatch)
        #expect(T.passwordWorks(user, "Keep-Pass-1"))
        #expect(!T.log.contains("Accepted password for \(user)"))
    }

    @Test func aPasswordTheTargetRefusesIsRejectedByTargetWithItsMessage() async throws {
        let user = T.target("f_reject", password: "Keep-Pass-1x")
        do {
            _ = try await plugin.reset(T.job(user, current: "Keep-Pass-1x", new: "a1"))
            Issue.record("expected a rejection")
        } catch {
            #expect(error.code == .rejectedByTarget)
            #expect(!error.message.contains("Keep-Pass-1x"))
        }
        #expect(T.passwordWorks(user, "Keep-Pass-1x"))
    }

    @Test func loginNamesThatAreNotPlainUserNamesAreRefusedUpFront() async throws {
        #expect(await code(T.job("root; reboot", current: "x", new: "Other-Pass-2")) == .unsupported)
        #expect(await code(T.job("-o", current: "x", new: "Other-Pass-2")) == .unsupported)
    }
}

@Suite(.needsTestTargets) struct UnixPluginMethodTests {
    let plugin = UnixPlugin()
    typealias T = TestTargets

    /// OpenSSH-format ed25519 and PEM ECDSA. (RSA keys need rsa-sha2 signatures, which libssh2 1.10 lacks.)
    @Test(arguments: ["ed25519", "ecdsa-pem"])
    func publicKeyLoginWithAKeyKeptAsASecret(kind: String) async throws {
        let login = T.target("k_\(kind.prefix(3))", password: "Key-Login-Pass-1")
        T.sh("echo '\(login) ALL=(ALL) NOPASSWD: /usr/bin/passwd, /usr/sbin/chpasswd' > /etc/sudoers.d/custody-key-\(login); chmod 440 /etc/sudoers.d/custody-key-\(login)")
        let keyFile = "\(T.dir)/key-\(kind)"
        T.sh("rm -f \(keyFile) \(keyFile).pub; ssh-keygen -q -N '' -f \(keyFile) " + (kind == "ecdsa-pem" ? "-t ecdsa -b 256 -m PEM" : "-t ed25519"))
        T.sh("cp \(keyFile).pub \(T.dir)/keys/\(login)")
        let key = try String(contentsOfFile: keyFile, encoding: .utf8)
        let user = T.target("kt_\(kind.prefix(3))", password: "Key-Target-Old-1")
        var job = T.job(user, current: "Key-Target-Old-1", new: "Key-Target-New-2", elevation: .sudo,
            login: .init(loginName: login, password: Secret("Key-Login-Pass-1"), privateKey: Secret(key)))
        job.settings.authMethod = .publicKey
        _ = try await plugin.reset(job)
        #expect(T.passwordWorks(user, "Key-Target-New-2"))
        #expect(T.log.contains("Accepted publickey for \(login)"))
    }

    @Test func chpasswdFedOnStdinThroughSu() async throws {
        let user = T.target("chp1", password: "Chp-Old-Pass-1")
        _ = try await plugin.reset(T.job(user, current: "Chp-Old-Pass-1", new: "Chp-New-Pass-2", elevation: .su,
            login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)), root: .init(loginName: T.rootUser, password: Secret(T.rootPassword)),
            change: .chpasswd))
        #expect(T.passwordWorks(user, "Chp-New-Pass-2"))
    }

    @Test func telnetLoginVerifyAndSelfChange() async throws {
        try #require(T.telnetAvailable, "telnetd is not running")
        let user = T.target("tel1", password: "Tel-Old-Pass-1")
        // The first telnet login of a run may meet a machine busy starting every other suite.
        var first = T.job(user, current: "Tel-Old-Pass-1", transport: .telnet)
        first.settings.promptTimeout = 120
        try await plugin.verify(first)
        await #expect { try await plugin.verify(T.job(user, current: "Tel-Wrong-Pass", transport: .telnet)) } throws: {
            ($0 as? ResetFailure)?.code == .authenticationFailed
        }
        _ = try await plugin.reset(T.job(user, current: "Tel-Old-Pass-1", new: "Tel-New-Pass-2", transport: .telnet))
        #expect(T.passwordWorks(user, "Tel-New-Pass-2"))
    }
}
