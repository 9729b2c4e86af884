import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Privileged sessions shared by one host's accounts, on the real sshd: one login and elevation
/// serve several changes; whatever goes wrong closes the session; a session serves only a job
/// that could have opened it (same login, root account, settings and host key).
@Suite(.needsTestTargets) struct SharedSessionTests {
    typealias T = TestTargets

    static func sudoJob(_ user: String, _ old: String, _ new: String, login: String, password: String, hostKey: String? = nil) -> ResetJob {
        T.job(user, current: old, new: new, elevation: .sudo, login: .init(loginName: login, password: Secret(password)), hostKey: hostKey)
    }

    @Test func changesThroughSudoShareOneLoginAndEachPasswordWorksOnAFreshLogin() async throws {
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let users = (1...4).map { T.target("shsudo\($0)", password: "Shared-Old-\($0)") }
        for (i, user) in users.enumerated() {
            let report = try await plugin.reset(Self.sudoJob(user, "Shared-Old-\(i + 1)", "Shared-New-\(i + 1)x", login: T.sudoUser,
                password: T.sudoPassword))
            #expect(report.message.contains("shared session, change \(i + 1)"), "\(report.message)")
            #expect(report.learnedHostKey == T.ready.hostKey)
        }
        #expect(pool.opened == 1, "one login and sudo for four changes")
        for (i, user) in users.enumerated() {
            #expect(T.passwordWorks(user, "Shared-New-\(i + 1)x"))
            try await plugin.verify(T.job(user, current: "Shared-New-\(i + 1)x"))
        }
        await pool.closeAll()
        #expect(pool.idleSessions == 0)
    }

    @Test func changesThroughSuAndChpasswdShareOneRootShell() async throws {
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let users = (1...3).map { T.target("shsu\($0)", password: "Shared-Su-Old-\($0)") }
        for (i, user) in users.enumerated() {
            _ = try await plugin.reset(T.job(user, current: "Shared-Su-Old-\(i + 1)", new: "Shared-Su-New-\(i + 1)x", elevation: .su,
                login: .init(loginName: T.loginUser, password: Secret(T.loginPassword)),
                root: .init(loginName: T.rootUser, password: Secret(T.rootPassword)), change: .chpasswd))
        }
        #expect(pool.opened == 1)
        for (i, user) in users.enumerated() { #expect(T.passwordWorks(user, "Shared-Su-New-\(i + 1)x")) }
        await pool.closeAll()
    }

    @Test func aFailedChangeClosesItsSessionAndTheNextAccountGetsAFreshOne() async throws {
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let a = T.target("shfail1", password: "Shared-Fail-Old-1")
        let b = T.target("shfail2", password: "Shared-Fail-Old-2")
        _ = try await plugin.reset(Self.sudoJob(a, "Shared-Fail-Old-1", "Shared-Fail-New-1x", login: T.sudoUser, password: T.sudoPassword))
        #expect(pool.idleSessions == 1)
        let missing = "ct_shfail_nosuchuser"
        let job = Self.sudoJob(missing, "x", "Shared-Fail-New-0x", login: T.sudoUser, password: T.sudoPassword)
        await #expect { _ = try await plugin.reset(job) } throws: { ($0 as? ResetFailure) != nil }
        #expect(pool.idleSessions == 0, "a session whose change failed is never used again")
        _ = try await plugin.reset(Self.sudoJob(b, "Shared-Fail-Old-2", "Shared-Fail-New-2x", login: T.sudoUser, password: T.sudoPassword))
        #expect(pool.opened == 2)
        #expect(T.passwordWorks(b, "Shared-Fail-New-2x"))
        await pool.closeAll()
    }

    /// The kept shell is killed on the target: the next change finds it dead before it types
    /// anything of its account, and opens a new one.
    @Test func aKeptShellThatDiedIsReplacedBeforeTheNextAccountIsTyped() async throws {
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let login = T.sudoTarget("shdead_login", password: "Shared-Login-Pass-1")
        let a = T.target("shdead1", password: "Shared-Dead-Old-1")
        let b = T.target("shdead2", password: "Shared-Dead-Old-2")
        _ = try await plugin.reset(Self.sudoJob(a, "Shared-Dead-Old-1", "Shared-Dead-New-1x", login: login, password: "Shared-Login-Pass-1"))
        T.sh("pkill -KILL -u \(login); true")
        try await Task.sleep(for: .milliseconds(300))
        var job = Self.sudoJob(b, "Shared-Dead-Old-2", "Shared-Dead-New-2x", login: login, password: "Shared-Login-Pass-1")
        let exposure = ResetExposure()
        job.exposure = exposure
        let report = try await plugin.reset(job)
        #expect(report.message.contains("change 1"), "a fresh session: \(report.message)")
        #expect(pool.opened == 2)
        #expect(exposure.reached)
        #expect(T.passwordWorks(b, "Shared-Dead-New-2x"))
        await pool.closeAll()
    }

    /// A job whose login password is wrong does not ride on a session another job opened, and one
    /// pinned to another host key is not served by a session of this one.
    @Test func aSessionServesOnlyAJobThatCouldHaveOpenedIt() async throws {
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let a = T.target("shkey1", password: "Shared-Key-Old-1")
        let b = T.target("shkey2", password: "Shared-Key-Old-2")
        _ = try await plugin.reset(Self.sudoJob(a, "Shared-Key-Old-1", "Shared-Key-New-1x", login: T.sudoUser, password: T.sudoPassword))
        let wrong = Self.sudoJob(b, "Shared-Key-Old-2", "Shared-Key-New-2x", login: T.sudoUser, password: "Not-The-Sudo-Pass-1")
        await #expect { _ = try await plugin.reset(wrong) } throws: { ($0 as? ResetFailure)?.code == .authenticationFailed }
        let otherPin = Self.sudoJob(b, "Shared-Key-Old-2", "Shared-Key-New-2x", login: T.sudoUser, password: T.sudoPassword,
            hostKey: "SHA256:" + String(repeating: "A", count: 43))
        await #expect { _ = try await plugin.reset(otherPin) } throws: { ($0 as? ResetFailure)?.code == .hostKeyMismatch }
        #expect(pool.idleSessions == 1, "the first session is still kept, unused")
        #expect(T.passwordWorks(b, "Shared-Key-Old-2"))
        await pool.closeAll()
    }

    @Test func anIdleSessionClosesAfterItsTimeAndNoneIsKeptWhenSharingIsOff() async throws {
        let pool = SharedSessions(idleSeconds: 0.2)
        let plugin = UnixPlugin(sessions: pool)
        let a = T.target("shidle1", password: "Shared-Idle-Old-1")
        _ = try await plugin.reset(Self.sudoJob(a, "Shared-Idle-Old-1", "Shared-Idle-New-1x", login: T.sudoUser, password: T.sudoPassword))
        #expect(await pool.closeIdle() == 0)
        try await Task.sleep(for: .milliseconds(300))
        #expect(await pool.closeIdle() == 1)
        #expect(pool.idleSessions == 0)
        let off = SharedSessions(idleSeconds: 0)
        #expect(off.key(Self.sudoJob(a, "x", "y", login: T.sudoUser, password: T.sudoPassword)) == nil)
    }

    /// sudo's ticket, made by the session's second change and used by the later ones, is revoked
    /// when the session closes. The login account's tickets are global here (`timestamp_type=global`),
    /// so a ticket left behind would let any of its sessions use sudo without a password.
    @Test func theSudoTicketASharedSessionMadeIsRevokedWhenItCloses() async throws {
        let login = T.target("shticket_l", password: "Shared-Ticket-Login-1")
        let file = "/etc/sudoers.d/custody-tests-\(login)"
        try "Defaults:\(login) timestamp_type=global\n\(login) ALL=(ALL) ALL\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o440)
        defer { try? FileManager.default.removeItem(atPath: file) }
        T.sh("sudo -u \(login) sudo -K 2>/dev/null; true")
        func ticketWorks() -> Bool { T.sh("su - \(login) -c 'sudo -n true' >/dev/null 2>&1 && echo yes || echo no") == "yes" }
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = UnixPlugin(sessions: pool)
        let users = (1...3).map { T.target("shticket\($0)", password: "Shared-Ticket-Old-\($0)") }
        for (i, user) in users.enumerated() {
            _ = try await plugin.reset(Self.sudoJob(user, "Shared-Ticket-Old-\(i + 1)", "Shared-Ticket-New-\(i + 1)x", login: login,
                password: "Shared-Ticket-Login-1"))
        }
        #expect(pool.opened == 1)
        #expect(ticketWorks(), "the kept session holds a ticket (global here)")
        await pool.closeAll()
        #expect(!ticketWorks(), "revoked as the session closed")
        for (i, user) in users.enumerated() { #expect(T.passwordWorks(user, "Shared-Ticket-New-\(i + 1)x")) }
    }
}
