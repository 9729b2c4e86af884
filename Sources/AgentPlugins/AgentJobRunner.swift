import Crypto
import Foundation
import Shared

/// What the agent does with a job once it holds the lease: opens it with its sealing key, runs
/// the plugin's reset or verify, and turns the outcome into the answer it sends back.
public struct AgentJobRunner: Sendable {
    public let plugin: any ResetPlugin
    /// Test hook: seconds to wait after a change before answering (a crash there is tested).
    public var holdAfterChange: Double? = nil

    public init(plugin: any ResetPlugin, holdAfterChange: Double? = nil) {
        self.plugin = plugin
        self.holdAfterChange = holdAfterChange
    }

    public func execute(_ job: AgentJob, sealing: Curve25519.KeyAgreement.PrivateKey) async -> PluginResponse {
        let resetJob: ResetJob
        do {
            resetJob = try JSONDecoder().decode(ResetJob.self, from: try AgentWire.open(job, with: sealing))
        } catch { return .failure(ResetFailure(.protocolError, "the job cannot be opened by this agent")) }
        do throws(ResetFailure) {
            switch resetJob.operation {
            case .reset:
                let report = try await plugin.reset(resetJob)
                if let holdAfterChange { try? await Task.sleep(for: .seconds(holdAfterChange)) }
                return .success(report.message)
            case .verify:
                try await plugin.verify(resetJob)
                return .success("the password works")
            case .notify:
                return .failure(ResetFailure(.unsupported, "agents do not run listeners"))
            }
        } catch { return .failure(error) }
    }
}
