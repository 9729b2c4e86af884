import Foundation
import Shared

/// A resource type and the reset plugin it is bound to.
struct ResourceTypeEntry: Sendable, Equatable, Codable {
    var name: String
    var plugin: String
    var builtIn: Bool
}

/// The server-wide password settings.
struct PasswordSettings: Sendable, Equatable {
    var requireReason: Bool
    var defaultPolicy: String
}

/// Password policies, resource types and the password settings. Names are unique whatever their
/// case; built-in ones cannot be changed. Every method is one transaction.
protocol PolicyStore: Sendable {
    /// Built-in policies first, then by name.
    func policies() async throws -> [PasswordPolicy]
    /// Creates or replaces a custom policy; a built-in's name is `StoreError.conflict`.
    func savePolicy(_ policy: PasswordPolicy, audit: AuditEvent) async throws
    /// Built-in types first, then by name.
    func resourceTypes() async throws -> [ResourceTypeEntry]
    /// Adds a custom type. A name taken is `StoreError.conflict`; then `check` runs (it throws to
    /// refuse); when `customListener` is given and no custom listener has that name, `StoreError.notFound`.
    func addResourceType(name: String, plugin: String, customListener: String?, check: @Sendable () throws -> Void, audit: AuditEvent)
        async throws
    func passwordSettings() async throws -> PasswordSettings
    /// Changes what is given; an unknown default policy is `StoreError.notFound` and nothing changes.
    func setPasswordSettings(requireReason: Bool?, defaultPolicy: String?, audit: AuditEvent) async throws
}
