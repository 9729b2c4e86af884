import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The dialects' failure paths and edge cases against the emulators: enable secrets (wrong, and
/// changed), an invalid command mid-dialogue, pagers left on, hostile passwords, copy to startup,
/// a session dropped mid-change, and logins without an account name.
@Suite(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available), .serialized)
struct NetworkDeviceFailureTests {
    typealias N = NetworkDeviceTests
    typealias Family = NetworkDeviceTests.Family

    @Test(arguments: [N.ios, N.asa, N.catos])
    func aWrongEnableSecretIsPermissionDeniedAndChangesNothing(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let job = N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x", enablePassword: "Wrong-Enable-9")
        let e = await N.failure { _ = try await N.plugin(f).reset(job) }
        #expect(e?.code == .permissionDenied, "\(f): \(String(describing: e))")
        #expect(e?.message.contains("Wrong-Enable-9") == false)
        #expect(emu.password(f.target) == "Target-Start-1")
    }

    @Test(arguments: [N.ios, N.asa, N.catos], [false, true])
    func theEnableSecretIsChangedAndVerified(family f: Family, telnet: Bool) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let p = N.plugin(f)
        _ = try await p.reset(N.job(f, emu, telnet: telnet, account: "enable", current: "Enable-Secret-1", new: "New-Enable-2"))
        #expect([emu.value("enable_secret"), emu.value("enable_password")].contains("New-Enable-2"), "\(f): \(emu.log())")
        try await p.verify(N.job(f, emu, telnet: telnet, account: "enable", current: "New-Enable-2", enablePassword: "New-Enable-2"))
        let old = await N.failure {
            try await p.verify(N.job(f, emu, telnet: telnet, account: "enable", current: "Enable-Secret-1", enablePassword: "Enable-Secret-1"))
        }
        #expect(old?.code == .authenticationFailed, "\(f): \(String(describing: old))")
    }

    /// The command each family's change starts with, refused as if the model lacked it.
    static let changeCommand = ["ios": "username", "asa": "username", "catos": "set localuser", "procurve": "password manager",
        "ilo": "set /map1", "screenos": "set admin", "junos": "commit"]

    @Test(arguments: N.all)
    func anInvalidCommandMidDialogueIsRejectedAndChangesNothing(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags + ["--reject", Self.changeCommand[f.emulator]!])
        defer { emu.stop() }
        let e = await N.failure {
            _ = try await N.plugin(f).reset(N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x"))
        }
        #expect(e?.code == .rejectedByTarget, "\(f): \(String(describing: e))")
        #expect(e?.message.contains("New-Pass-2x") == false)
        #expect(emu.password(f.target) == "Target-Start-1")
        if f.emulator == "junos" {
            #expect(emu.password(f.target, in: "candidate") == "Target-Start-1", "the set must be rolled back: \(emu.log())")
        }
    }

    @Test(arguments: N.all)
    func pagersAreAnsweredWhenPagingStaysOn(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags + ["--paging-stays-on", "--motd-lines", "120"])
        defer { emu.stop() }
        _ = try await N.plugin(f).reset(N.job(f, emu, telnet: true, account: f.target, current: "Target-Start-1", new: "New-Pass-2x"))
        #expect(emu.password(f.target) == "New-Pass-2x", "\(f): \(emu.log())")
    }

    /// Every printable character the dialect allows (except letters and digits), in chunks that fit.
    @Test(arguments: N.all)
    func hostilePasswordsWithinTheDialectsLimitsArriveIntact(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let p = N.plugin(f)
        let specials = Array(p.descriptor.constraints.allowedCharacters!.filter { !$0.isLetter && !$0.isNumber })
        var current = "Target-Start-1"
        let size = min(p.dialect.constraints.maxLength, 20) - 3
        for chunk in stride(from: 0, to: specials.count, by: size).map({ String(specials[$0..<min($0 + size, specials.count)]) }) {
            let new = "Aa1" + chunk + (chunk.count < 5 ? "Zz9-x" : "")
            let enable = f.enable?.0 == f.target ? current : nil
            _ = try await p.reset(N.job(f, emu, telnet: false, account: f.target, current: current, new: new, enablePassword: enable))
            #expect(emu.password(f.target) == new, "\(f): sent \(new.debugDescription), device has \(String(describing: emu.password(f.target)).debugDescription)")
            current = new
        }
    }

    @Test(arguments: N.all.filter(\.saves))
    func copyToStartupWritesTheStartupConfiguration(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let r = try await N.plugin(f).reset(N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x", copy: true))
        #expect(emu.password(f.target, in: "startup") == "New-Pass-2x", "\(f): \(emu.log())")
        #expect(r.message.contains("startup"))
    }

    @Test(arguments: N.all)
    func aSessionDroppedMidChangeIsOutcomeUnknownAndTheNewPasswordVerifies(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags + ["--drop-after-change"])
        defer { emu.stop() }
        let p = N.plugin(f)
        var j = N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1", new: "New-Pass-2x")
        j.exposure = ResetExposure()
        let e = await N.failure { [j] in _ = try await p.reset(j) }
        // Not the device's refusal, after the new password was typed: the state machine makes it outcome unknown.
        #expect(e != nil && ![.rejectedByTarget, .authenticationFailed, .permissionDenied].contains(e!.code), "\(f): \(String(describing: e))")
        #expect(j.exposure?.reached == true, "\(f)")
        // Reconcile tries both: the new one logs in, the old one no longer does.
        try await p.verify(N.job(f, emu, telnet: false, account: f.target, current: "New-Pass-2x"))
        let old = await N.failure { try await p.verify(N.job(f, emu, telnet: false, account: f.target, current: "Target-Start-1")) }
        #expect(old?.code == .authenticationFailed)
    }

    /// Passwords that look like a prompt or an error message, within each dialect's limits.
    @Test(arguments: N.all)
    func passwordsThatLookLikePromptsOrErrorsAreNotMistakenForThem(family f: Family) async throws {
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        let p = N.plugin(f)
        var current = "Target-Start-1"
        let candidates = ["Zz9(config)#", "Ab1%Invalid#", "Rt9@router>", "Qq1status=2#", "Ee1-(enable)", "Xx1error:x#", "Ab1 syntax error.#"]
        for new in candidates where p.descriptor.constraints.problem(with: Secret(new)) == nil && new.count >= (p.dialect.constraints.minLength ?? 1) {
            let enable = f.enable?.0 == f.target ? current : nil
            _ = try await p.reset(N.job(f, emu, telnet: true, account: f.target, current: current, new: new, enablePassword: enable))
            #expect(emu.password(f.target) == new, "\(f): \(new)")
            current = new
        }
    }

    /// A login account that lands in enable mode proves nothing about the enable secret: the verify goes down first.
    @Test func anEnableSecretIsCheckedEvenWhenTheLoginIsAlreadyPrivileged() async throws {
        let f = N.ios
        let emu = try DeviceEmulator(family: f.emulator, users: ["admin:Admin-Pass-1:15"], flags: f.flags)
        defer { emu.stop() }
        var job = N.job(f, emu, telnet: false, account: "enable", current: "Enable-Secret-1", enablePassword: "Enable-Secret-1")
        job.loginAccount = .init(loginName: "admin", password: Secret("Admin-Pass-1"))
        try await N.plugin(f).verify(job)
        job.currentPassword = Secret("Wrong-Enable-9")
        job.rootAccount?.password = Secret("Wrong-Enable-9")
        let e = await N.failure { try await N.plugin(f).verify(job) }
        #expect(e?.code == .authenticationFailed, "\(String(describing: e))")
    }

    /// ProCurve's operator credential, chosen by the account's `level` field; an unknown level changes nothing.
    @Test func aProCurveOperatorIsChangedByItsLevelAndAnUnknownLevelIsRefused() async throws {
        let f = N.procurve
        let emu = try DeviceEmulator(family: f.emulator, users: f.users, flags: f.flags)
        defer { emu.stop() }
        var job = N.job(f, emu, telnet: false, account: f.login.0, current: f.login.1, new: "New-Oper-2")
        job.account["level"] = "operator"
        _ = try await N.plugin(f).reset(job)
        #expect(emu.password(f.login.0) == "New-Oper-2" && emu.password(f.target) == "Target-Start-1", "\(emu.log())")
        job.account["level"] = "root; reload"
        job.currentPassword = Secret("New-Oper-2")
        job.loginAccount = .init(loginName: f.login.0, password: Secret("New-Oper-2"))
        job.newPassword = Secret("Other-Oper-3")
        let e = await N.failure { _ = try await N.plugin(f).reset(job) }
        #expect(e?.code == .unsupported && e?.message.contains("manager, operator") == true, "\(String(describing: e))")
        #expect(emu.password(f.login.0) == "New-Oper-2")
    }
}
