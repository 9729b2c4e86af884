import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// Several accounts of one device through one enable session and one save, on the IOS emulator:
/// the device's running and startup configurations are read back after the change, and each
/// new password is proven by a fresh login.
@Suite(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available))
struct SharedDeviceSessionTests {
    typealias F = NetworkDeviceTests
    static let users = ["helpdesk:Help-Pass-1:1"] + (1...4).map { "ops\($0):Ops-Start-\($0):1" }

    @Test func changesArrivingTogetherShareOneEnableSessionAndOneSave() async throws {
        let emu = try DeviceEmulator(family: "ios", users: Self.users, flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = NetworkDevicePlugin(dialect: F.library.dialect(id: "cisco-ios")!, sessions: pool)
        let reports = try await withThrowingTaskGroup(of: ResetReport.self) { group in
            for i in 1...4 {
                let job = F.job(F.ios, emu, telnet: false, account: "ops\(i)", current: "Ops-Start-\(i)", new: "Ops-Shared-\(i)x", copy: true)
                group.addTask { try await plugin.reset(job) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for i in 1...4 {
            #expect(emu.password("ops\(i)") == "Ops-Shared-\(i)x" && emu.password("ops\(i)", in: "startup") == "Ops-Shared-\(i)x")
        }
        let saves = emu.state()["saves"] as? Int ?? -1
        let enables = emu.log().filter { $0.trimmingCharacters(in: .whitespaces) == "enable" }.count
        // The first change leads; the others arrive while it logs in and join its batch. A loaded
        // machine may start one late, after the save: never more than two batches for four changes.
        #expect((1...2).contains(saves), "saves: \(saves)")
        #expect((1...2).contains(enables), "enable sessions: \(enables)")
        #expect(pool.opened == enables)
        let counted = reports.compactMap { r in r.message.firstMatch(of: /one save for (\d) change/).map { Int($0.1)! } }
        #expect(counted.count == 4 && Set(counted).reduce(0, +) <= 4, "\(reports.map(\.message))")
        for i in 1...4 {
            try await plugin.verify(F.job(F.ios, emu, telnet: false, account: "ops\(i)", current: "Ops-Shared-\(i)x"))
        }
        await pool.closeAll()
    }

    /// The device refuses one account's change: that account fails (nothing changed), the session
    /// is closed, and the others still change and are saved.
    @Test func aRefusedChangeIsItsOwnAndTheOthersAreStillSaved() async throws {
        let emu = try DeviceEmulator(family: "ios", users: Self.users, flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        let pool = SharedSessions(idleSeconds: 30)
        let plugin = NetworkDevicePlugin(dialect: F.library.dialect(id: "cisco-ios")!, sessions: pool)
        let a = F.job(F.ios, emu, telnet: false, account: "ops1", current: "Ops-Start-1", new: "Ops-Refuse-1x", copy: true)
        _ = try await plugin.reset(a)
        // A wrong enable secret: refused entering enable mode in a new session, before any password is typed.
        let wrong = F.job(F.ios, emu, telnet: false, account: "ops2", current: "Ops-Start-2", new: "Ops-Refuse-2x",
            enablePassword: "Not-The-Enable-1", copy: true)
        let exposure = ResetExposure()
        var job = wrong
        job.exposure = exposure
        await #expect { _ = try await plugin.reset(job) } throws: { ($0 as? ResetFailure)?.code == .permissionDenied }
        #expect(!exposure.reached)
        #expect(emu.password("ops2") == "Ops-Start-2")
        _ = try await plugin.reset(F.job(F.ios, emu, telnet: false, account: "ops3", current: "Ops-Start-3", new: "Ops-Refuse-3x", copy: true))
        #expect(pool.opened == 2, "the second change of the first key reused its session; the wrong enable secret is another key")
        #expect(emu.password("ops3", in: "startup") == "Ops-Refuse-3x")
        await pool.closeAll()
    }
}

/// The batching itself, without a device: who leads, who waits, whose outcome is whose.
@Suite struct ChangeQueueTests {
    static func job(_ name: String) -> ResetJob {
        ResetJob(operation: .reset, resource: ["IPADDRESS": "192.0.2.1"], account: ["LOGINNAME": name], currentPassword: Secret("a"),
            newPassword: Secret("b"), loginAccount: .init(loginName: "login", password: Secret("c")), settings: ResetSettings(transport: .ssh, port: 22))
    }

    @Test func changesThatArriveWhileOneLeadsJoinItsBatchAndGetTheirOwnOutcomes() async throws {
        let queue = ChangeQueue()
        let key = ChangeQueue.BatchKey(session: try #require(SharedSessions(idleSeconds: 5).key(Self.job("x"))), pin: nil)
        let gate = AsyncStream<Void>.makeStream()
        let batches = Batches()
        let results = await withTaskGroup(of: (String, String).self) { group in
            for name in ["a", "b", "c", "d"] {
                group.addTask {
                    let r = await queue.run(key, Self.job(name)) { first, more in
                        if first.loginName == "a" { for await _ in gate.stream { break } }  // the leader waits for the others to queue
                        let jobs = [first] + more()
                        batches.add(jobs.map(\.loginName))
                        return jobs.map { j in j.loginName == "c" ? .failure(ResetFailure(.rejectedByTarget, "c refused")) : .success(ResetReport(message: j.loginName)) }
                    }
                    switch r {
                    case .success(let report): return (name, report.message)
                    case .failure(let f): return (name, f.message)
                    }
                }
                if name == "a" { try? await Task.sleep(for: .milliseconds(100)) }  // "a" leads
            }
            try? await Task.sleep(for: .milliseconds(200))
            gate.continuation.yield()
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(results == ["a": "a", "b": "b", "c": "c refused", "d": "d"])
        // The others arrive in any order; all join the leader's one batch.
        #expect(batches.all.map { [$0[0]] + $0.dropFirst().sorted() } == [["a", "b", "c", "d"]])
    }

    @Test func oneThatArrivesAfterTheBatchTookItsFollowersLeadsTheNext() async throws {
        let queue = ChangeQueue()
        let key = ChangeQueue.BatchKey(session: try #require(SharedSessions(idleSeconds: 5).key(Self.job("x"))), pin: nil)
        let batches = Batches()
        var late: Task<ChangeQueue.Outcome, Never>?
        let first = await queue.run(key, Self.job("a")) { first, more in
            batches.add([first.loginName] + more().map(\.loginName))
            // "b" comes while this batch saves: it waits, then leads a batch of its own.
            late = Task {
                await queue.run(key, Self.job("b")) { f, m in
                    batches.add([f.loginName] + m().map(\.loginName))
                    return [.success(ResetReport(message: "b"))]
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
            return [.success(ResetReport(message: "a"))]
        }
        #expect((try? first.get())?.message == "a")
        #expect((try? await late?.value.get())?.message == "b")
        #expect(batches.all == [["a"], ["b"]])
    }

    @Test func aWaitingChangeWhoseRunIsCancelledLeavesUntyped() async throws {
        let queue = ChangeQueue()
        let key = ChangeQueue.BatchKey(session: try #require(SharedSessions(idleSeconds: 5).key(Self.job("x"))), pin: nil)
        let batches = Batches()
        let gate = AsyncStream<Void>.makeStream()
        let leader = Task {
            await queue.run(key, Self.job("a")) { first, more in
                for await _ in gate.stream { break }
                let jobs = [first] + more()
                batches.add(jobs.map(\.loginName))
                return jobs.map { .success(ResetReport(message: $0.loginName)) }
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        let follower = Task { await queue.run(key, Self.job("b")) { f, _ in [.success(ResetReport(message: f.loginName))] } }
        try await Task.sleep(for: .milliseconds(100))
        follower.cancel()
        let outcome = await follower.value
        #expect((try? outcome.get()) == nil)
        if case .failure(let f) = outcome { #expect(f.code == .unreachable) }
        // One cancelled before it even joins the queue is refused too.
        let early = Task {
            while !Task.isCancelled { await Task.yield() }
            return await queue.run(key, Self.job("c")) { f, _ in [.success(ResetReport(message: f.loginName))] }
        }
        early.cancel()
        if case .failure(let f) = await early.value { #expect(f.code == .unreachable) } else { Issue.record("c was typed") }
        gate.continuation.yield()
        #expect((try? await leader.value.get())?.message == "a")
        #expect(batches.all == [["a"]], "the cancelled changes were not typed")
    }

    final class Batches: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [[String]] = []
        func add(_ b: [String]) { lock.withLock { list.append(b) } }
        var all: [[String]] { lock.withLock { list } }
    }
}
