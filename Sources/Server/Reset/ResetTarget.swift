import Foundation
import ResetPlugins
import Shared

/// An account's reset target: the plugin and config that change and verify its password.
struct ResetTarget: Sendable {
    let resource: ResourceRecord
    let account: AccountRecord
    let config: ResetConfig
    let plugin: any ResetPlugin

    /// 400 `invalid_login_name` when the plugin cannot pass the account's name to its target.
    func checkLoginName() throws {
        do throws(ResetFailure) { try plugin.checkLoginName(account.loginName) } catch {
            throw DomainError.invalid("invalid_login_name", error.message)
        }
    }

    /// The same target with `key` pinned, so later connections check it.
    func pinned(_ key: String) -> ResetTarget {
        var config = config
        config.hostKey = key
        return ResetTarget(resource: resource, account: account, config: config, plugin: plugin)
    }
}

/// Finds the plugin for what the store holds about a target: the bound agent, a custom plugin
/// (an approved listener), or a built-in plugin of the resource type.
struct ResetTargets: Sendable {
    let plugins: PluginRegistry
    let agentJobs: any AgentJobQueue
    /// The program of an approved listener (its sealed script opened, or its executable checked).
    let listenerProgram: @Sendable (ListenerRecord) throws -> ExternalProgram

    /// The target, or a 400 saying what is missing.
    func resolve(_ f: TargetFacts) throws -> ResetTarget {
        let r = f.resource
        guard let config = f.config, config.mode != .none
        else { throw DomainError.invalid("reset_not_configured", "resource \(r.name) has no reset configuration (PUT /resources/\(r.id)/reset-config)") }
        if config.mode == .agent {
            guard let agent = f.agentID else {
                throw DomainError.invalid("no_agent", "no agent is bound to resource \(r.name): an administrator binds one with a bundle for "
                    + "this resource (POST /agent-packages with resourceId) or approves one (POST /agents/{id}/bindings)")
            }
            return ResetTarget(resource: r, account: f.account, config: config, plugin: AgentPlugin(queue: agentJobs, agentID: agent))
        }
        if f.pluginID.hasPrefix("external:") {
            return ResetTarget(resource: r, account: f.account, config: config, plugin: try custom(String(f.pluginID.dropFirst(9)), f.customPlugin))
        }
        guard let plugin = plugins.plugin(f.pluginID, type: r.type) else {
            if f.pluginID == "network" || f.pluginID.hasPrefix("dialect:") {
                throw DomainError.invalid("reset_unsupported", "no device dialect serves resources of type \(r.type) (plugin \(f.pluginID))")
            }
            throw DomainError.invalid("reset_unsupported", "resources of type \(r.type) (plugin \(f.pluginID)) have no remote reset in this version")
        }
        var typed = config
        let implied = plugin.defaultOptions(resourceType: r.type)
        if !implied.isEmpty { typed.options = implied.merging(config.options ?? [:]) { $1 } }
        return ResetTarget(resource: r, account: f.account, config: typed, plugin: plugin)
    }

    /// The reset plugin of a resource type bound to `external:<name>`: an approved custom listener.
    func custom(_ name: String, _ l: ListenerRecord?) throws -> ExternalPlugin {
        guard let l, l.kind == .custom else { throw DomainError.invalid("reset_unsupported", "custom plugin \(name) does not exist") }
        guard l.status == .active else {
            throw DomainError.invalid("reset_unsupported", "custom plugin \(name) is \(l.status.rawValue); it runs once approved")
        }
        return ExternalPlugin(id: "external:\(l.name)", program: try listenerProgram(l), arguments: l.additionalParameters,
            resourceTypes: l.resourceTypes)
    }
}
