import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Every dialect against the device emulators (Tests/Emulators/netdev.py), over SSH and telnet:
/// the change really changes what a new login accepts, running versus startup, enable secrets,
/// invalid commands, pagers left on, hostile passwords and sessions dropped mid-change.
@Suite(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available), .serialized)
struct NetworkDeviceTests {
    /// How one family is set up: the login account, the enable credential, the account changed.
    struct Family: Sendable, CustomStringConvertible {
        let emulator: String
        let dialect: String
        let login: (String, String)
        var enable: (String, String)? = nil
        var flags: [String] = []
        let target: String
        var saves = true
        var description: String { emulator }

        var users: [String] {
            if target == enable?.0 { return ["\(login.0):\(login.1):1", "\(target):Target-Start-1:15"] }
            return ["\(login.0):\(login.1):\(enable == nil ? 15 : 1)", "\(target):Target-Start-1:1"]
        }
    }

    static let ios = Family(emulator: "ios", dialect: "cisco-ios", login: ("helpdesk", "Help-Pass-1"), enable: ("enable", "Enable-Secret-1"),
        flags: ["--enable-secret", "Enable-Secret-1"], target: "ops")
    static let asa = Family(emulator: "asa", dialect: "cisco-asa", login: ("helpdesk", "Help-Pass-1"), enable: ("enable", "Enable-Secret-1"),
        flags: ["--enable-secret", "Enable-Secret-1"], target: "ops")
    static let catos = Family(emulator: "catos", dialect: "cisco-catos", login: ("helpdesk", "Help-Pass-1"), enable: ("enable", "Enable-Secret-1"),
        flags: ["--enable-secret", "Enable-Secret-1", "--login-password", "Line-Pass-1"], target: "ops", saves: false)
    static let procurve = Family(emulator: "procurve", dialect: "hp-procurve", login: ("helpdesk", "Help-Pass-1"),
        enable: ("manager", "Target-Start-1"), target: "manager")
    static let ilo = Family(emulator: "ilo", dialect: "hp-ilo", login: ("Administrator", "Admin-Pass-1"), target: "ops", saves: false)
    static let screenos = Family(emulator: "screenos", dialect: "juniper-netscreen", login: ("netscreen", "Admin-Pass-1"), target: "ops")
    static let junos = Family(emulator: "junos", dialect: "juniper-junos", login: ("admin", "Admin-Pass-1"), target: "ops", saves: false)
    static let all = [ios, asa, catos, procurve, ilo, screenos, junos]

    static let library = try! DialectLibrary.load()

    static func plugin(_ f: Family) -> NetworkDevicePlugin { NetworkDevicePlugin(dialect: library.dialect(id: f.dialect)!) }

    /// A reset (or verify) job for `account` on the emulator, logging in with the family's login account.
    static func job(_ f: Family, _ emu: DeviceEmulator, telnet: Bool, account: String, current: String, new: String? = nil,
        enablePassword: String? = nil, copy: Bool = false, selfLogin: Bool = false) -> ResetJob
    {
        var s = ResetSettings(transport: telnet ? .telnet : .ssh, port: telnet ? emu.telnetPort : emu.sshPort)
        s.copyToStartup = copy
        s.promptTimeout = 8
        let enable = f.enable.map { ResetJob.Credential(loginName: $0.0, password: Secret(enablePassword ?? $0.1)) }
        return ResetJob(operation: new == nil ? .verify : .reset, resource: ["IPADDRESS": "127.0.0.1"], account: ["LOGINNAME": account],
            currentPassword: Secret(current), newPassword: new.map(Secret.init),
            loginAccount: selfLogin ? nil : ResetJob.Credential(loginName: f.login.0, password: Secret(f.login.1)), rootAccount: enable,
            settings: s)
    }

    static func failure(_ body: () async throws -> Void) async -> ResetFailure? {
        do {
            try await body()
            return nil
        } catch { return error as? ResetFailure ?? ResetFailure(.protocolError, "\(error)") }
    }

    @Test(arguments: all, [false, true])
    func aResetChangesWhatANewLoginAcceptsAndNotStartup(family f: Family, telnet: Bool) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let p = Self.plugin(f)
        let report = try await p.reset(Self.job(f, emu, telnet: telnet, account: f.target, current: "Target-Start-1", new: "New-Pass-2x"))
        #expect(emu.password(f.target) == "New-Pass-2x", "\(f) \(telnet): \(emu.log())")
        if f.saves { #expect(emu.password(f.target, in: "startup") == "Target-Start-1", "\(f): startup must wait for copyToStartup") }
        if !telnet { #expect(report.learnedHostKey?.hasPrefix("SHA256:") == true) }
        try await p.verify(Self.job(f, emu, telnet: telnet, account: f.target, current: "New-Pass-2x"))
        let old = await Self.failure { try await p.verify(Self.job(f, emu, telnet: telnet, account: f.target, current: "Target-Start-1")) }
        #expect(old?.code == .authenticationFailed, "\(f) \(telnet): \(String(describing: old))")
    }

    /// CatOS's line password: no account name at login, changed with `set password` (old, new, retype).
    @Test(arguments: [false, true])
    func aLinePasswordWithoutAccountNameIsChanged(telnet: Bool) async throws {
        let f = Self.catos
        let emu = try DeviceEmulator(family: f.emulator, users: [], flags: f.flags + ["--no-username"])
        defer { emu.stop() }
        var job = Self.job(f, emu, telnet: telnet, account: "login", current: "Line-Pass-1", new: "New-Line-2", selfLogin: true)
        job.settings.accountNameRequired = false
        _ = try await Self.plugin(f).reset(job)
        #expect(emu.value("login_password") == "New-Line-2", "\(emu.log())")
        job.newPassword = nil
        job.currentPassword = Secret("New-Line-2")
        try await Self.plugin(f).verify(job)
    }

    /// IOS with a line password (`login`, no `login local`): only a password prompt, then enable.
    @Test func anIOSLinePasswordLoginStillChangesAUser() async throws {
        let f = Self.ios
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags + ["--no-username", "--login-password", "Line-Pass-1"])
        defer { emu.stop() }
        var job = Self.job(f, emu, telnet: true, account: f.target, current: "Target-Start-1", new: "New-Pass-2x")
        job.loginAccount = ResetJob.Credential(loginName: "line", password: Secret("Line-Pass-1"))
        job.settings.accountNameRequired = false
        _ = try await Self.plugin(f).reset(job)
        #expect(emu.password(f.target) == "New-Pass-2x")
    }

    @Test func aUserNamePromptWhenNoneIsExpectedIsAClearError() async throws {
        let f = Self.ios
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        var job = Self.job(f, emu, telnet: true, account: f.target, current: "Target-Start-1")
        job.settings.accountNameRequired = false
        let e = await Self.failure { try await Self.plugin(f).verify(job) }
        #expect(e?.code == .protocolError && e?.message.contains("accountNameRequired") == true, "\(String(describing: e))")
    }

    /// IOS shortens a long host name in configuration prompts; the dialect does not depend on it.
    @Test func aLongHostNameTruncatedInConfigModeStillWorks() async throws {
        let f = Self.ios
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags + ["--long-hostname"])
        defer { emu.stop() }
        _ = try await Self.plugin(f).reset(Self.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x",
            copy: true))
        #expect(emu.password(f.target, in: "startup") == "New-Pass-2x")
    }

    /// JunOS's own password rules: the device's message comes back, and nothing is left uncommitted.
    @Test func aPasswordTheDeviceRefusesIsRejectedWithItsReason() async throws {
        let f = Self.junos
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let e = await Self.failure {
            _ = try await Self.plugin(f).reset(Self.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "alllowercase"))
        }
        #expect(e?.code == .rejectedByTarget && e?.message.contains("change of case") == true, "\(String(describing: e))")
        #expect(emu.password(f.target, in: "candidate") == "Target-Start-1")
        #expect(emu.password(f.target) == "Target-Start-1")
    }
}
