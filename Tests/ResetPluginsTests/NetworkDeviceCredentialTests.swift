import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Resetting an account changes that account's credential and no other, checked in the device's
/// state: ProCurve's manager and operator pairs, enable secrets, line passwords, NetScreen's root
/// admin. An account a dialect cannot map is refused before connecting; a verify proves the level.
@Suite(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available), .serialized)
struct NetworkDeviceCredentialTests {
    typealias N = NetworkDeviceTests
    typealias Level = DeviceEmulator.Level

    /// A ProCurve with both pairs, manager/Mgr-Pass-1 (the enable account) and operator/Oper-Pass-1.
    static let both = ["manager:Mgr-Pass-1:15", "operator:Oper-Pass-1:1"]
    static func procurve(login: (String, String) = ("manager", "Mgr-Pass-1")) -> N.Family {
        N.Family(emulator: "procurve", dialect: "hp-procurve", login: login, enable: ("manager", "Mgr-Pass-1"), target: "operator")
    }

    /// Everything the device keeps except `target`'s own entry: users, levels, enable and line passwords.
    static func others(_ emu: DeviceEmulator, except target: String, keys: Set<String> = []) -> [String: String] {
        func text(_ v: Any) -> String {
            (try? JSONSerialization.data(withJSONObject: v, options: [.sortedKeys, .fragmentsAllowed])).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
        }
        let run = emu.state()["running"] as? [String: Any] ?? [:]
        var out: [String: String] = [:]
        for (k, v) in run where !keys.contains(k) && k != "users" && k != "levels" { out[k] = text(v) }
        for (n, u) in run["users"] as? [String: Any] ?? [:] where n != target { out["users." + n] = text(u) }
        for (l, u) in run["levels"] as? [String: Any] ?? [:] where (u as? [String: Any])?["name"] as? String != target {
            out["levels." + l] = text(u)
        }
        return out
    }

    @Test(arguments: [false, true])
    func resettingTheOperatorChangesOnlyTheOperatorPair(telnet: Bool) async throws {
        let f = Self.procurve()
        let emu = try DeviceEmulator(family: f.emulator, users: Self.both)
        defer { emu.stop() }
        let p = N.plugin(f)
        let r = try await p.reset(N.job(f, emu, telnet: telnet, account: "operator", current: "Oper-Pass-1", new: "New-Oper-2"))
        #expect(emu.level("operator") == Level("operator", "New-Oper-2"), "\(emu.log())")
        #expect(emu.level("manager") == Level("manager", "Mgr-Pass-1"), "the manager's name and password stay")
        #expect(r.message.contains("operator") && !r.message.contains("New-Oper-2"))
        try await p.verify(N.job(f, emu, telnet: telnet, account: "operator", current: "New-Oper-2"))
        let old = await N.failure { try await p.verify(N.job(f, emu, telnet: telnet, account: "operator", current: "Oper-Pass-1")) }
        #expect(old?.code == .authenticationFailed, "\(String(describing: old))")
    }

    /// Logged in as the operator, `enable` asks for the manager pair; only the manager's changes.
    @Test(arguments: [false, true])
    func resettingTheManagerChangesOnlyTheManagerPair(telnet: Bool) async throws {
        let f = Self.procurve(login: ("operator", "Oper-Pass-1"))
        let emu = try DeviceEmulator(family: f.emulator, users: Self.both)
        defer { emu.stop() }
        let p = N.plugin(f)
        _ = try await p.reset(N.job(f, emu, telnet: telnet, account: "manager", current: "Mgr-Pass-1", new: "New-Mgr-2"))
        #expect(emu.level("manager") == Level("manager", "New-Mgr-2"), "\(emu.log())")
        #expect(emu.level("operator") == Level("operator", "Oper-Pass-1"))
        try await p.verify(N.job(f, emu, telnet: telnet, account: "manager", current: "New-Mgr-2", enablePassword: "New-Mgr-2"))
        // A wrong manager password at `enable` is refused by the switch and changes nothing.
        let e = await N.failure {
            _ = try await p.reset(N.job(f, emu, telnet: telnet, account: "operator", current: "Oper-Pass-1", new: "Other-Oper-3",
                enablePassword: "Wrong-Mgr-9"))
        }
        #expect(e?.code == .permissionDenied && e?.message.contains("Wrong-Mgr-9") == false, "\(String(describing: e))")
        #expect(emu.level("operator") == Level("operator", "Oper-Pass-1"))
    }

    @Test func anAccountTheDialectCannotMapIsRefusedBeforeConnectingAndTheSwitchIsUntouched() async throws {
        let f = Self.procurve()
        let emu = try DeviceEmulator(family: f.emulator, users: Self.both)
        defer { emu.stop() }
        let p = N.plugin(f)
        let before = emu.state()["running"] as? NSDictionary
        var bob = N.job(f, emu, telnet: false, account: "bob", current: "Bob-Pass-1", new: "New-Bob-2")
        for job in [bob, { var j = bob; j.settings.port = 1; return j }()] {  // port 1: nothing listens
            let e = await N.failure { _ = try await p.reset(job) }
            #expect(e?.code == .unsupported && e?.message.contains("'bob'") == true && e?.message.contains("level") == true, "\(String(describing: e))")
        }
        let v = await N.failure { try await p.verify(bob) }
        #expect(v?.code == .unsupported)
        // An explicit level that contradicts the login name is refused too.
        var contra = N.job(f, emu, telnet: false, account: "operator", current: "Oper-Pass-1", new: "New-Oper-2")
        contra.account["level"] = "manager"
        let c = await N.failure { _ = try await p.reset(contra) }
        #expect(c?.code == .unsupported && c?.message.contains("level: manager") == true, "\(String(describing: c))")
        #expect(emu.state()["running"] as? NSDictionary == before, "nothing changed")
        #expect(emu.log().isEmpty, "no command was typed: \(emu.log())")
        // With a level, bob is that pair (renamed to bob), and only that pair changes.
        bob.account["level"] = "operator"
        _ = try await p.reset(bob)
        #expect(emu.level("operator") == Level("bob", "New-Bob-2") && emu.level("manager") == Level("manager", "Mgr-Pass-1"))
    }

    /// The manager renamed "operator" (the old bug's outcome), and an operator named "manager":
    /// the password logs in, but at the other level, so the verify fails.
    @Test(arguments: [(["operator:Mgr-Pass-1:15", "helpdesk:Oper-Pass-1:1"], "operator", "Mgr-Pass-1", "enable"),
        (["admin:Mgr-Pass-1:15", "manager:Oper-Pass-1:1"], "manager", "Oper-Pass-1", "user"),
        // HP: "if you configure only an Operator password, entering the Operator password enables full manager privileges".
        (["operator:Oper-Pass-1:1"], "operator", "Oper-Pass-1", "enable")])
    func aVerifyThatLandsAtTheWrongLevelFails(users: [String], account: String, password: String, landed: String) async throws {
        let f = Self.procurve()
        let emu = try DeviceEmulator(family: f.emulator, users: users)
        defer { emu.stop() }
        for telnet in [false, true] {
            let e = await N.failure { try await N.plugin(f).verify(N.job(f, emu, telnet: telnet, account: account, current: password)) }
            #expect(e?.code == .authenticationFailed && e?.message.contains("landed in \(landed) mode") == true, "\(String(describing: e))")
            #expect(e?.message.contains(password) == false)
        }
    }

    /// Every dialect: resetting the family's target leaves every other credential of the device as it was.
    @Test(arguments: N.all)
    func aResetChangesNoOtherCredential(family f: N.Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let before = Self.others(emu, except: f.target)
        _ = try await N.plugin(f).reset(N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x"))
        #expect(emu.password(f.target) == "New-Pass-2x")
        #expect(Self.others(emu, except: f.target) == before, "\(f): \(emu.log())")
    }

    /// The enable secret changes alone: every user and the line password stay.
    @Test(arguments: [N.ios, N.asa, N.catos])
    func anEnableResetChangesOnlyTheEnableSecret(family f: N.Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let keys: Set<String> = ["enable_secret", "enable_password"]
        let before = Self.others(emu, except: "", keys: keys)
        _ = try await N.plugin(f).reset(N.job(f, emu, telnet: false, account: "enable", current: "Enable-Secret-1", new: "New-Enable-2"))
        #expect([emu.value("enable_secret"), emu.value("enable_password")].contains("New-Enable-2"))
        #expect(Self.others(emu, except: "", keys: keys) == before, "\(f): \(emu.log())")
    }

    /// `set admin password` sets the root admin's password whoever types it: an admin that logs
    /// itself in is changed with `set admin user`, and only the root admin (netscreen) with the former.
    @Test func aNetScreenAdminLoggingItselfInChangesItsOwnPasswordNotTheRootAdmins() async throws {
        let f = N.screenos
        let emu = try DeviceEmulator(family: f.emulator, users: ["netscreen:Admin-Pass-1:15", "ops:Target-Start-1:15"])
        defer { emu.stop() }
        let p = N.plugin(f)
        _ = try await p.reset(N.job(f, emu, telnet: false, account: "ops", current: "Target-Start-1", new: "New-Ops-2", selfLogin: true))
        #expect(emu.password("ops") == "New-Ops-2" && emu.password("netscreen") == "Admin-Pass-1", "\(emu.log())")
        _ = try await p.reset(N.job(f, emu, telnet: false, account: "netscreen", current: "Admin-Pass-1", new: "New-Root-2", selfLogin: true))
        #expect(emu.password("netscreen") == "New-Root-2" && emu.password("ops") == "New-Ops-2", "\(emu.log())")
        try await p.verify(N.job(f, emu, telnet: false, account: "netscreen", current: "New-Root-2", selfLogin: true))
    }

    /// JunOS's `root` is the root-authentication password, kept apart from the login users.
    @Test func aJunOSRootResetChangesRootAuthenticationOnly() async throws {
        let f = N.junos
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let before = emu.state()["running"].flatMap { ($0 as? [String: Any])?["users"] as? NSDictionary }
        let p = N.plugin(f)
        _ = try await p.reset(N.job(f, emu, telnet: false, account: "root", current: "Root-Start-1", new: "New-Root-2"))
        #expect(emu.value("root_password") == "New-Root-2", "\(emu.log())")
        #expect(emu.state()["running"].flatMap { ($0 as? [String: Any])?["users"] as? NSDictionary } == before, "no login user changed")
        try await p.verify(N.job(f, emu, telnet: false, account: "root", current: "New-Root-2"))
    }
}
