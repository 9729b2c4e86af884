import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server

/// Fails the first `failures` resets with `code`, then succeeds; records concurrency per host.
final class ScriptedPlugin: ResetPlugin, @unchecked Sendable {
    let descriptor = PluginDescriptor(id: "scripted", resourceTypes: ["Linux"], capabilities: [.reset, .verify])
    private let lock = NSLock()
    private var failuresLeft: Int
    private let code: ResetFailure.Code
    private var onTarget: [String: String] = [:]
    private(set) var passwordsTried: [String] = []
    private var running = 0
    private(set) var maxRunning = 0
    let delay: Duration

    init(failures: Int = 0, code: ResetFailure.Code = .rejectedByTarget, delay: Duration = .zero) {
        failuresLeft = failures
        self.code = code
        self.delay = delay
    }

    func verify(_ job: ResetJob) async throws(ResetFailure) {
        let ok = lock.withLock { onTarget[job.loginName].map { $0 == job.currentPassword?.reveal() } ?? true }
        if !ok { throw ResetFailure(.authenticationFailed, "wrong password") }
    }

    func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        lock.withLock { running += 1; maxRunning = max(maxRunning, running) }
        try? await Task.sleep(for: delay)
        let fail: Bool = lock.withLock {
            running -= 1
            passwordsTried.append(job.newPassword?.reveal() ?? "")
            if failuresLeft > 0 { failuresLeft -= 1; return true }
            onTarget[job.loginName] = job.newPassword?.reveal()
            return false
        }
        if fail { throw ResetFailure(code, "scripted \(code)") }
        return ResetReport()
    }
}
