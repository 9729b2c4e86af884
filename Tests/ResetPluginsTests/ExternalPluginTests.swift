import Foundation
import Shared
import Testing
import TestSupport

@testable import ResetPlugins

/// The custom plugin protocol: one JSON request on stdin, one JSON answer on stdout, and every
/// way a plugin can misbehave mapped to a code, with secrets redacted.
@Suite struct ExternalPluginTests {
    static let work = NSTemporaryDirectory() + "custody-plugin-tests"

    func plugin(_ script: String, timeout: Double = 10, limit: Int = 64 * 1024, work: String = work) -> ExternalPlugin {
        ExternalPlugin(id: "test", program: ExternalProgram(name: "plugin.sh", body: Array(("#!/bin/sh\n" + script).utf8),
            workRoot: work, timeout: timeout, outputLimit: limit))
    }

    let job = ResetJob(operation: .reset, resource: ["RESOURCENAME": "app1", "IPADDRESS": "10.0.0.1"],
        account: ["LOGINNAME": "svc"], currentPassword: Secret("Old-Pass-1"), newPassword: Secret("New'Pass\"2$"),
        settings: ResetSettings())

    @Test func theRequestIsTheResetJobWithSecretsInClear() async throws {
        let p = plugin(#"jq -c '{ok: true, message: "\(.operation) \(.resource.RESOURCENAME) \(.account.LOGINNAME) \(.newPassword | length)"}'"#)
        let report = try await p.reset(job)
        #expect(report.message == "reset app1 svc 11")
        try await p.verify(job)
        #expect(try await p.notify(job) == "notify app1 svc 11")
    }

    @Test func failureCodesPassThrough() async {
        let p = plugin(#"echo '{"ok": false, "code": "authenticationFailed", "message": "bad password"}'; exit 1"#)
        await #expect(throws: ResetFailure(.authenticationFailed, "bad password")) { try await p.verify(job) }
    }

    @Test func echoedSecretsAreRedacted() async {
        let p = plugin(#"jq -c '{ok: false, code: "rejectedByTarget", message: ("refused " + .newPassword)}'"#)
        await #expect(throws: ResetFailure(.rejectedByTarget, "refused <redacted>")) { _ = try await p.reset(job) }
        let q = plugin(#"jq -r .currentPassword >&2; exit 4"#)
        let e = await failure { () throws(ResetFailure) in _ = try await q.reset(job) }
        #expect(e?.code == .protocolError && e?.message.contains("Old-Pass-1") == false && e?.message.contains("status 4") == true)
        let escaped = plugin(#"cat >&2; exit 3"#)  // the request echoed back: passwords JSON-escaped
        let m = await failure { () throws(ResetFailure) in _ = try await escaped.reset(job) }?.message ?? ""
        #expect(!m.contains("New'Pass") && !m.contains(#"New'Pass\"2$"#) && m.contains("<redacted>"), "\(m)")
    }

    @Test(arguments: [
        (#"echo not json"#, "did not answer one JSON"),
        (#"echo '{"ok": "yes"}'"#, "did not answer one JSON"),
        (#"echo '{"ok": false, "code": "whatever"}'"#, "unknown failure code"),
        (#"echo '{"ok": true}'; exit 2"#, "answered ok but exited"),
        (#"echo '{"ok": true}' '{"ok": true}'"#, "did not answer one JSON"),
        (#"head -c 200000 /dev/zero | tr '\0' x"#, "more than"),
        (#"kill -SEGV $$"#, "crashed"),
        (#"exit 0"#, "did not answer one JSON"),
    ])
    func misbehaviourIsAProtocolError(script: String, expected: String) async {
        let p = plugin(script)
        do {
            _ = try await p.reset(job)
            Issue.record("\(script) succeeded")
        } catch {
            #expect(error.code == .protocolError, "\(script)")
            #expect(error.message.contains(expected), "\(script): \(error.message)")
        }
    }

    @Test func aHungResetIsATimeoutAfterThePluginHeldTheNewPassword() async {
        let p = plugin("sleep 20", timeout: 0.5)
        var j = job
        j.exposure = ResetExposure()
        await #expect(throws: ResetFailure(.promptTimeout, "plugin test did not answer within 0.5 s and was killed")) {
            _ = try await p.reset(j)
        }
        // The plugin ran with the new password: the state machine reads the timeout as outcome unknown.
        #expect(j.exposure?.reached == true)
        #expect(await failure { () throws(ResetFailure) in try await p.verify(job) }?.code == .promptTimeout)
    }

    @Test func runDirectoriesAreRemoved() async throws {
        let work = Self.work + "-" + UUID().uuidString
        _ = try await plugin(#"echo '{"ok": true}'"#, work: work).reset(job)
        #expect(try FileManager.default.contentsOfDirectory(atPath: work).isEmpty)
        let mode = try FileManager.default.attributesOfItem(atPath: work)[.posixPermissions] as? Int
        #expect(mode == 0o700)
    }

    @Test func fileNamesAreSanitised() {
        #expect(ExternalProgram.fileName("a b/c") == "a_b_c")
        #expect(!ExternalProgram.fileName("../x").contains("/"))
        #expect(ExternalProgram.fileName(".hidden") == "program.hidden")
        #expect(ExternalProgram.split(" python3  -u ") == ["python3", "-u"])
    }
}
