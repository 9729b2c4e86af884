import Foundation

/// Resources' reset configurations (how Custody reaches the target). Visibility and the caller's
/// permission are decided on what is stored; a save is one transaction with its audit record.
protocol ResetConfigStore: Sendable {
    /// The stored config; `.notVisible` when the caller cannot see the resource.
    func config(of resourceID: String, visibleTo p: Principal, authorize: @Sendable (Permission) throws -> Void) async throws -> StoredResetConfig
    /// Replaces the config with what `decide` makes of the stored one. Every account the result
    /// names (login, root, enable) must be an account of the resource (`unknown_account`).
    /// nil when the caller cannot see the resource.
    func save(for resourceID: String, by p: Principal, authorize: @Sendable (Permission) throws -> Void,
        decide: @Sendable (_ stored: ResetConfig?) throws -> ResetConfig,
        audit: @Sendable (ResourceRecord, ResetConfig) -> AuditEvent) async throws -> ResetConfig?
}

enum StoredResetConfig: Sendable {
    case notVisible
    case found(ResetConfig?)
}
