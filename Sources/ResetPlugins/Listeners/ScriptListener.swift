import Foundation
import Processes
import Shared

/// PMP's Password Reset Listener: a script run after a committed change with the classic
/// arguments (resource name, DNS name, account name, old password, new password, then the
/// additional parameters). Where the passwords go is chosen by `secretsVia`; only `argv` puts
/// them on the command line, where other local users can read them.
public struct ScriptListener: Sendable {
    public enum SecretsVia: String, Codable, Sendable { case stdin, env, argv }

    public struct Outcome: Sendable, Equatable {
        public var succeeded: Bool
        /// Exit status, duration and output, redacted and truncated: for the audit.
        public var summary: String
    }

    public let program: ExternalProgram
    public let secretsVia: SecretsVia
    public let additionalParameters: [String]
    public let started: (@Sendable (pid_t) -> Void)?

    public init(program: ExternalProgram, secretsVia: SecretsVia, additionalParameters: [String],
        started: (@Sendable (pid_t) -> Void)? = nil)
    {
        self.program = program
        self.secretsVia = secretsVia
        self.additionalParameters = additionalParameters
        self.started = started
    }

    /// PMP's positional arguments. Outside argv mode the two password positions hold `-`, so the
    /// additional parameters stay at $6 onwards.
    public func arguments(_ job: ResetJob) -> [String] {
        let clear = secretsVia == .argv
        return [job.resource["RESOURCENAME"] ?? "", job.resource["IPADDRESS"] ?? "", job.loginName,
            clear ? job.currentPassword?.reveal() ?? "" : "-", clear ? job.newPassword?.reveal() ?? "" : "-"] + additionalParameters
    }

    /// In env mode: `CUSTODY_<KEY>` for each resource and account property (custom fields as
    /// `CUSTODY_RESOURCE_<NAME>` / `CUSTODY_ACCOUNT_<NAME>`), `CUSTODY_OLD_PASSWORD`, `CUSTODY_NEW_PASSWORD`.
    public func environment(_ job: ResetJob) -> [String: String] {
        guard secretsVia == .env else { return [:] }
        var env: [String: String] = [:]
        for (k, v) in job.resource { env[Self.standardKeys.contains(k) ? "CUSTODY_\(k)" : "CUSTODY_RESOURCE_\(Self.envName(k))"] = v }
        for (k, v) in job.account { env[Self.standardKeys.contains(k) ? "CUSTODY_\(k)" : "CUSTODY_ACCOUNT_\(Self.envName(k))"] = v }
        env["CUSTODY_OLD_PASSWORD"] = job.currentPassword?.reveal() ?? ""
        env["CUSTODY_NEW_PASSWORD"] = job.newPassword?.reveal() ?? ""
        return env
    }

    static let standardKeys: Set<String> = ["RESOURCENAME", "IPADDRESS", "RESOURCEURL", "DOMAINNAME", "SSHPORT", "RESOURCEDESC",
        "LOCATION", "DEPARTMENT", "LOGINNAME", "DESCRIPTION"]

    static func envName(_ key: String) -> String {
        String(key.uppercased().unicodeScalars.map { $0.isASCII && CharacterSet.alphanumerics.contains($0) ? Character($0) : "_" })
    }

    static func seconds(_ value: Double) -> String { String(format: "%g", value) }

    public func run(_ job: ResetJob) async -> Outcome {
        let stdin = secretsVia == .stdin ? ((try? job.wireJSON()) ?? []) : []
        let start = Date()
        let r: ChildProcess.Result
        do {
            r = try await program.run(arguments: arguments(job), environment: environment(job), stdin: stdin, started: started)
        } catch {
            return Outcome(succeeded: false, summary: Secret.redact("could not start: \(error.description)", job.secrets))
        }
        let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
        let raw = String(decoding: r.stdout + r.stderr, as: UTF8.self)
        var output = (r.oversized ? Secret.redact(cut: raw, job.secrets) : Secret.redact(raw, job.secrets))
            .trimmingCharacters(in: .whitespacesAndNewlines)
        if output.count > 2000 { output = String(output.prefix(2000)) + "… (truncated)" }
        let status: String
        if r.timedOut {
            status = "killed after the \(Self.seconds(program.timeout)) s timeout"
        } else if r.oversized {
            status = "killed after writing more than \(program.outputLimit) bytes"
        } else if let s = r.signal {
            status = "ended by signal \(s)"
        } else {
            status = "exit \(r.exitCode ?? -1)"
        }
        let succeeded = r.exitCode == 0 && !r.timedOut && !r.oversized
        return Outcome(succeeded: succeeded, summary: "\(status) in \(seconds) s" + (output.isEmpty ? "" : "; output: \(output)"))
    }
}
