import Foundation
import Processes
import Shared

/// A custom plugin: an executable that reads one `ResetJob` as JSON on stdin and answers one
/// `PluginResponse` on stdout. It serves as the reset and verify plugin of a custom resource type,
/// and as a custom listener (operation `notify`).
public struct ExternalPlugin: ResetPlugin {
    public let descriptor: PluginDescriptor
    public let program: ExternalProgram
    /// Extra arguments after the program (the listener's additional parameters).
    public let arguments: [String]
    public let started: (@Sendable (pid_t) -> Void)?

    public init(id: String, program: ExternalProgram, arguments: [String] = [], resourceTypes: [String] = [],
        started: (@Sendable (pid_t) -> Void)? = nil)
    {
        self.descriptor = PluginDescriptor(id: id, resourceTypes: resourceTypes, capabilities: [.reset, .verify])
        self.program = program
        self.arguments = arguments
        self.started = started
    }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        var job = job
        job.operation = .verify
        _ = try await call(job)
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        var job = job
        job.operation = .reset
        return ResetReport(message: try await call(job))
    }

    /// A listener call after a committed change; returns the plugin's message for the audit.
    public func notify(_ job: ResetJob) async throws(ResetFailure) -> String {
        var job = job
        job.operation = .notify
        return try await call(job)
    }

    func call(_ job: ResetJob) async throws(ResetFailure) -> String {
        let input: [UInt8]
        do { input = try job.wireJSON() } catch { throw ResetFailure(.protocolError, "the request could not be encoded") }
        let result: ChildProcess.Result
        let carriesNew = job.operation == .reset && job.newPassword != nil
        if carriesNew { try job.exposure?.willSend() }
        // Once the child runs it holds the new password: what its answer means is the state machine's call.
        let exposure = carriesNew ? job.exposure : nil
        let started = self.started
        let onStart: @Sendable (pid_t) -> Void = { pid in
            exposure?.markReached()
            started?(pid)
        }
        do { result = try await program.run(arguments: arguments, stdin: input, started: onStart) } catch {
            throw ResetFailure(.protocolError, "plugin \(descriptor.id): \(Secret.redact(error.description, job.secrets))")
        }
        let message = try Self.interpret(result, job: job, plugin: descriptor.id, timeout: program.timeout, limit: program.outputLimit)
        if carriesNew { try job.exposure?.sent() }
        return message
    }

    /// The plugin's answer, or the failure its run amounts to. Messages are redacted and bounded.
    static func interpret(_ r: ChildProcess.Result, job: ResetJob, plugin: String, timeout: Double, limit: Int)
        throws(ResetFailure) -> String
    {
        func clean(_ bytes: [UInt8]) -> String {
            let raw = String(decoding: bytes, as: UTF8.self)
            let text = r.oversized ? Secret.redact(cut: raw, job.secrets) : Secret.redact(raw, job.secrets)
            return String(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(500))
        }
        let stderrNote = r.stderr.isEmpty ? "" : " (stderr: \(clean(r.stderr)))"
        if r.timedOut {
            throw ResetFailure(.promptTimeout, "plugin \(plugin) did not answer within \(ScriptListener.seconds(timeout)) s and was killed")
        }
        if r.oversized { throw ResetFailure(.protocolError, "plugin \(plugin) wrote more than \(limit) bytes and was killed") }
        if let signal = r.signal {
            throw ResetFailure(.protocolError, "plugin \(plugin) crashed (signal \(signal))" + stderrNote)
        }
        let text = String(decoding: r.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let response = try? JSONDecoder().decode(PluginResponse.self, from: Data(text.utf8)) else {
            let status = r.exitCode == 0 ? "" : " and exited with status \(r.exitCode ?? -1)"
            throw ResetFailure(.protocolError, "plugin \(plugin) did not answer one JSON response on stdout\(status)" + stderrNote)
        }
        let message = String(Secret.redact(response.message ?? "", job.secrets).prefix(1000))
        if response.ok {
            guard r.exitCode == 0 else {
                throw ResetFailure(.protocolError, "plugin \(plugin) answered ok but exited with status \(r.exitCode ?? -1)")
            }
            return message.isEmpty ? "ok" : message
        }
        guard let raw = response.code, PluginResponse.codes.contains(ResetFailure.Code(rawValue: raw)) else {
            throw ResetFailure(.protocolError, "plugin \(plugin) answered an unknown failure code")
        }
        throw ResetFailure(ResetFailure.Code(rawValue: raw), message.isEmpty ? "plugin \(plugin) failed" : message)
    }
}
