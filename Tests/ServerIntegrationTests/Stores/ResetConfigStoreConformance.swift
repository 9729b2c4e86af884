import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `ResetConfigStore` must do: one config per resource, replaced whole by a
/// save decided on the stored one; a config naming an account the resource lacks is refused; the
/// resource's visibility and the caller's permission decide; a refusal changes and audits nothing.
@Suite struct ResetConfigStoreConformance {
    static let ana = TaskStoreConformance.ana
    static let bo = TaskStoreConformance.bo
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let saved: @Sendable (ResourceRecord, ResetConfig) -> AuditEvent = { r, c in
        AuditEvent(user: "ana", ip: "t", operation: "set_reset_config", message: c.mode.rawValue, resourceId: r.id)
    }

    static func stored(_ b: StoreBackend, _ rid: String) async throws -> ResetConfig? {
        guard case .found(let c) = try await b.resetConfigs.config(of: rid, visibleTo: ana, authorize: anyone) else { return nil }
        return c
    }

    @Test(arguments: StoreBackend.names("resetConfigs"))
    func aSaveIsDecidedOnTheStoredConfigAndReadBackWhole(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let rid = try await b.ownResource("u-ana")
        _ = try await b.addAccount(rid, "root")
        #expect(try await Self.stored(b, rid) == nil)
        var firstConfig = ResetConfig(mode: .agentless)
        firstConfig.loginAccount = "root"
        firstConfig.port = 2222
        firstConfig.hostKey = "SHA256:" + String(repeating: "A", count: 43)
        let first = firstConfig
        _ = try await b.resetConfigs.save(for: rid, by: Self.ana, authorize: Self.anyone, decide: { stored in
            #expect(stored == nil)
            return first
        }, audit: Self.saved)
        #expect(try await Self.stored(b, rid) == first)
        var secondConfig = ResetConfig(mode: .agentless)
        secondConfig.loginAccount = "nobody"
        let second = secondConfig
        await #expect(throws: DomainError.self) {
            _ = try await b.resetConfigs.save(for: rid, by: Self.ana, authorize: Self.anyone, decide: { _ in second }, audit: Self.saved)
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.resetConfigs.save(for: rid, by: Self.ana, authorize: Self.anyone,
                decide: { _ in throw DomainError(.forbidden, "no", "agent mode is an administrator's call") }, audit: Self.saved)
        }
        #expect(try await b.resetConfigs.save(for: rid, by: Self.bo, authorize: Self.anyone, decide: { _ in second }, audit: Self.saved) == nil)
        guard case .notVisible = try await b.resetConfigs.config(of: rid, visibleTo: Self.bo, authorize: Self.anyone) else {
            Issue.record("bo cannot see the resource")
            return
        }
        #expect(try await Self.stored(b, rid) == first)
        #expect(try await b.auditOperations().filter { $0 == "set_reset_config" }.count == 1)
        let third = try await b.resetConfigs.save(for: rid, by: Self.ana, authorize: Self.anyone, decide: { stored in
            var c = ResetConfig(mode: .none)
            c.hostKey = stored?.hostKey
            return c
        }, audit: Self.saved)
        #expect(third?.mode == ResetConfig.Mode.none && third?.hostKey == first.hostKey && third?.loginAccount == nil)
        #expect(try await Self.stored(b, rid) == third)
    }
}
