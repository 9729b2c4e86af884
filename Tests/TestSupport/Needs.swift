import Foundation
import Testing

/// A suite or test that needs a real server (sshd, slapd, MariaDB, a device emulator…). When it
/// cannot start, the suite **fails** with the reason: a green `make test` means every suite ran.
/// A developer may opt out with `CUSTODY_TEST_ALLOW_SKIP=1` (the suite is then cancelled, shown
/// as skipped); CI never does.
public struct Needs: SuiteTrait, TestTrait, TestScoping {
    let what: String
    /// nil when ready; otherwise why not.
    let missing: @Sendable () -> String?

    public static var allowSkip: Bool { ProcessInfo.processInfo.environment["CUSTODY_TEST_ALLOW_SKIP"] == "1" }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // Decided off the cooperative pool: starting a server blocks.
        let why = await withCheckedContinuation { c in Thread { [missing] in c.resume(returning: missing()) }.start() }
        guard let why else { return try await function() }
        if Self.allowSkip { try Test.cancel("skipped: \(what) is not available (CUSTODY_TEST_ALLOW_SKIP=1)") }
        Issue.record("\(what) is not available (\(why)), so \(test.name) cannot run. CUSTODY_TEST_ALLOW_SKIP=1 skips it instead.")
    }
}

extension Trait where Self == Needs {
    /// `.needs("root and sshd", TestTargets.ready.available)`: fails the suite when it is false.
    public static func needs(_ what: String, _ ready: @autoclosure @escaping @Sendable () -> Bool) -> Needs {
        Needs(what: what, missing: { ready() ? nil : "it did not start" })
    }

    /// The test sshd (and telnetd) with its users, su and sudo, started once per run.
    public static var needsTestTargets: Needs {
        Needs(what: "the test sshd and telnetd (root needed)", missing: { TestTargets.ready.available ? nil : TestTargets.ready.why })
    }
}
