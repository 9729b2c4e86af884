import Foundation

/// How Custody reaches each resource's target. Authorization inside: reading needs the resource,
/// saving needs `updateResource`, and turning agent mode on or off is an administrator's call (it
/// hands the resource's passwords to whichever agent serves it).
struct ResetConfigService: Sendable {
    let store: any ResetConfigStore
    let authorizer: Authorizer

    func config(of rid: String, by p: Principal) async throws -> ResetConfig {
        switch try await store.config(of: rid, visibleTo: p, authorize: authorizer.on(p, .readResource)) {
        case .notVisible: throw DomainError.notFound("resource")
        case .found(nil): throw DomainError.notFound("reset configuration")
        case .found(let config?): return config
        }
    }

    func save(_ body: ResetConfig, for rid: String, by p: Principal, ip: String) async throws -> ResetConfig {
        let saved = try await store.save(for: rid, by: p, authorize: authorizer.on(p, .updateResource),
            decide: { [authorizer] stored in
                var b = body
                if (b.mode == .agent) != (stored?.mode == .agent) { try authorizer.check(p, .manageSettings) }
                // An unchanged transport keeps the host key learned on first use.
                if b.hostKey == nil, let stored, stored.port == b.port, stored.protocol == b.protocol { b.hostKey = stored.hostKey }
                return b
            },
            audit: { r, b in
                AuditEvent(user: p.username, ip: ip, operation: "set_reset_config", resource: r.name,
                    message: "mode \(b.mode.rawValue)" + b.transportWarnings.map { "; warning: " + $0 }.joined(), resourceId: r.id)
            })
        guard let saved else { throw DomainError.notFound("resource") }
        return saved
    }
}
