import Crypto
import Foundation
import Shared

func Curve25519KeyAgreementKey(_ raw: Data) throws -> Curve25519.KeyAgreement.PublicKey {
    try Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw)
}

/// A resource in mode `agent`: the task engine calls this plugin like any other, and it hands the
/// job to the agent bound to the resource.
struct AgentPlugin: ResetPlugin {
    let queue: any AgentJobQueue
    let agentID: String
    let descriptor = PluginDescriptor(id: "agent", resourceTypes: ["Linux", "Windows", "Windows Domain"], capabilities: [.reset, .verify],
        constraints: PasswordConstraints(maxLength: 127, allowsNonASCII: false))

    func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        let r = try await queue.run(agentID, job)
        guard r.ok else { throw Self.failure(r, job) }
        return ResetReport(message: r.message ?? "changed by the agent")
    }

    func verify(_ job: ResetJob) async throws(ResetFailure) {
        let r = try await queue.run(agentID, job)
        guard r.ok else { throw Self.failure(r, job) }
    }

    /// The agent's failure, its message redacted and bounded; an unknown code is a protocol error.
    func checkLoginName(_ name: String) throws(ResetFailure) { try LoginName.check(name) }

    static func failure(_ r: PluginResponse, _ job: ResetJob) -> ResetFailure {
        let code = r.code.map { ResetFailure.Code(rawValue: $0) }.flatMap { PluginResponse.codes.contains($0) ? $0 : nil } ?? .protocolError
        return ResetFailure(code, String(Secret.redact(r.message ?? "the agent reported \(code)", job.secrets).prefix(1000)))
    }
}
