import Foundation

/// Reading the audit trail: administrators, super-administrators and auditors oversee it all;
/// password administrators see their own actions and those on what is shared with them;
/// password users see none of it.
struct AuditTrail: Sendable {
    let store: any AuditStore
    let authorizer: Authorizer

    func entries(_ query: AuditLog.Query, by p: Principal) async throws -> [AuditEntry] {
        try authorizer.check(p, .readAudit)
        return try await store.entries(query, visibleTo: p)
    }

    /// A record that stands alone.
    func append(_ event: AuditEvent) async throws { try await store.append(event) }
}
