import CCrypt
import Foundation
import Processes
import Shared

/// Changes local accounts on this Linux host: `chpasswd` fed on standard input (never argv), and
/// verifies with crypt(3) against `/etc/shadow`.
public struct LinuxLocalPlugin: ResetPlugin {
    var shadowPath = "/etc/shadow"
    var chpasswd = "/usr/sbin/chpasswd"
    public let descriptor = PluginDescriptor(id: "linux-local", resourceTypes: ["Linux"], capabilities: [.reset, .verify],
        constraints: PasswordConstraints(maxLength: 127, allowsNonASCII: false))

    public init() {}

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        let user = try Self.user(job)
        guard let new = job.newPassword else { throw ResetFailure(.rejectedByTarget, "no new password") }
        guard !new.reveal().contains("\n") else { throw ResetFailure(.rejectedByTarget, "a password cannot hold a line break for chpasswd") }
        guard try shadowHash(user) != nil else { throw ResetFailure(.rejectedByTarget, "no local account \(user) in \(shadowPath)") }
        let result: ChildProcess.Result
        do {
            result = try await ChildProcess.run(ChildProcess.Request(argv: [chpasswd], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"],
                workingDirectory: "/", stdin: Array("\(user):\(new.reveal())\n".utf8), timeout: 30, outputLimit: 8192))
        } catch { throw ResetFailure(.permissionDenied, "cannot run \(chpasswd): \(error.description)") }
        guard result.exitCode == 0 else {
            let err = Secret.redact(String(decoding: result.stderr, as: UTF8.self), job.secrets).trimmingCharacters(in: .whitespacesAndNewlines)
            throw ResetFailure(result.timedOut ? .outcomeUnknown : .rejectedByTarget, "chpasswd failed: \(err.prefix(300))")
        }
        return ResetReport(message: "changed with chpasswd")
    }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        let user = try Self.user(job)
        guard let hash = try shadowHash(user) else { throw ResetFailure(.authenticationFailed, "no local account \(user)") }
        guard hash.hasPrefix("$"), let password = job.currentPassword else {
            throw ResetFailure(.authenticationFailed, "the account \(user) has no usable password hash")
        }
        guard let computed = ccrypt_hash(password.reveal(), hash) else { throw ResetFailure(.protocolError, "crypt(3) cannot use this hash") }
        defer { free(computed) }
        guard String(cString: computed) == hash else { throw ResetFailure(.authenticationFailed, "the password does not match /etc/shadow") }
    }

    static func user(_ job: ResetJob) throws(ResetFailure) -> String {
        let user = job.loginName
        try LoginName.check(user)
        return user
    }

    func shadowHash(_ user: String) throws(ResetFailure) -> String? {
        guard let text = try? String(contentsOfFile: shadowPath, encoding: .utf8) else {
            throw ResetFailure(.permissionDenied, "cannot read \(shadowPath) (the agent runs as root)")
        }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count > 1, f[0] == user { return String(f[1]) }
        }
        return nil
    }
}
