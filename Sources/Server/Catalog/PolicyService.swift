import Foundation
import ResetPlugins
import Shared

/// Password policies, resource types (and the plugin each is reset by) and the server-wide
/// password settings. Anyone signed in reads them; administrators change them.
struct PolicyService: Sendable {
    let store: any PolicyStore
    let authorizer: Authorizer
    let dialects: DialectLibrary

    func policies(by p: Principal) async throws -> [PasswordPolicy] {
        try authorizer.check(p, .readPolicies)
        return try await store.policies()
    }

    /// Creates or replaces a custom policy.
    func savePolicy(_ body: PolicyBody, by p: Principal, ip: String) async throws -> PasswordPolicy {
        try authorizer.check(p, .managePolicies)
        try body.validate()
        let policy = body.policy
        try await Self.mapped {
            try await store.savePolicy(policy, audit: AuditEvent(user: p.username, ip: ip, operation: "save_policy", message: "policy \(policy.name)"))
        }
        return policy
    }

    func resourceTypes(by p: Principal) async throws -> [ResourceTypeEntry] {
        try authorizer.check(p, .readResourceTypes)
        return try await store.resourceTypes()
    }

    /// A custom resource type bound to a built-in plugin, a custom listener (`external:NAME`) or a
    /// device dialect (`dialect:ID`) this server loaded.
    func addResourceType(_ body: ResourceTypeBody, by p: Principal, ip: String) async throws -> ResourceTypeEntry {
        try authorizer.check(p, .manageResourceTypes)
        try body.validate()
        let listener = body.plugin.hasPrefix("external:") ? String(body.plugin.dropFirst(9)) : nil
        let dialects = dialects
        let knownDialect: @Sendable () throws -> Void = {
            if body.plugin.hasPrefix("dialect:"), dialects.dialect(id: String(body.plugin.dropFirst(8))) == nil {
                throw DomainError.invalid("invalid_field", "no device dialect '\(body.plugin.dropFirst(8))'; known: "
                    + dialects.dialects.keys.sorted().joined(separator: ", "))
            }
        }
        do {
            try await store.addResourceType(name: body.name, plugin: body.plugin, customListener: listener, check: knownDialect,
                audit: AuditEvent(user: p.username, ip: ip, operation: "create_resource_type", message: "\(body.name) -> \(body.plugin)"))
        } catch let e as StoreError where e.code == .notFound {
            throw DomainError.invalid("invalid_field", "\(e.message) (POST /listeners with kind custom)")
        } catch let e as StoreError where e.code == .conflict {
            throw DomainError.conflict(e.message)
        }
        return ResourceTypeEntry(name: body.name, plugin: body.plugin, builtIn: false)
    }

    /// Any signed-in user reads them (the console asks for a reason when one is required).
    func passwordSettings() async throws -> PasswordSettings { try await store.passwordSettings() }

    func setPasswordSettings(_ body: PasswordSettingsBody, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        let event = AuditEvent(user: p.username, ip: ip, operation: "update_settings",
            message: "requireReason=\(body.requireReason.map(String.init) ?? "-") defaultPolicy=\(body.defaultPolicy ?? "-")")
        do {
            try await store.setPasswordSettings(requireReason: body.requireReason, defaultPolicy: body.defaultPolicy, audit: event)
        } catch let e as StoreError where e.code == .notFound {
            throw DomainError.invalid("unknown_policy", e.message)
        }
    }

    private static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as StoreError where e.code == .conflict { throw DomainError.conflict(e.message) }
    }
}
