import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `PolicyStore` must do: built-ins first and never changed, custom policies
/// created or replaced, resource types unique in any case and bound only to a custom listener
/// that exists, and password settings that change together or not at all.
@Suite struct PolicyStoreConformance {
    static func event(_ op: String) -> AuditEvent { AuditEvent(user: "root", ip: "test", operation: op) }

    static func policy(_ name: String, min: Int = 12) -> PasswordPolicy {
        PasswordPolicy(name: name, minLength: min, maxLength: 32, requireMixedCase: true, requireDigits: true, minSpecial: 1,
            firstCharLetter: false, forbidLoginName: true, historyDepth: 3, maxAgeDays: nil)
    }

    @Test(arguments: StoreBackend.names("policies"))
    func customPoliciesComeAfterTheBuiltInsWhichNeverChange(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let s = b.policies!
        let builtIns = PasswordPolicy.builtIns.map(\.name)
        #expect(Set(try await s.policies().map(\.name)) == Set(builtIns))
        try await s.savePolicy(Self.policy("zeta"), audit: Self.event("save_policy"))
        try await s.savePolicy(Self.policy("alpha"), audit: Self.event("save_policy"))
        try await s.savePolicy(Self.policy("zeta", min: 20), audit: Self.event("save_policy"))
        let all = try await s.policies()
        #expect(Array(all.map(\.name).suffix(2)) == ["alpha", "zeta"], "custom ones after the built-ins, by name")
        #expect(all.first { $0.name == "zeta" }?.minLength == 20, "replaced")
        await #expect { try await s.savePolicy(Self.policy(builtIns[0].uppercased()), audit: Self.event("save_policy")) } throws: {
            ($0 as? StoreError)?.code == .conflict
        }
        #expect(try await b.auditOperations().filter { $0 == "save_policy" }.count == 3)
    }

    @Test(arguments: StoreBackend.names("policies"))
    func resourceTypesAreUniqueAndBoundOnlyToACustomListenerThatExists(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let s = b.policies!
        #expect(try await s.resourceTypes().first?.builtIn == true)
        try await s.addResourceType(name: "Appliance", plugin: "unix", customListener: nil, check: {}, audit: Self.event("create_resource_type"))
        await #expect { try await s.addResourceType(name: "APPLIANCE", plugin: "unix", customListener: nil,
            check: { throw DomainError.invalid("invalid_field", "checked before the name") }, audit: Self.event("create_resource_type")) }
            throws: { ($0 as? StoreError)?.code == .conflict }
        await #expect { try await s.addResourceType(name: "Gadget", plugin: "external:nope", customListener: "nope", check: {},
            audit: Self.event("create_resource_type")) } throws: { ($0 as? StoreError)?.code == .notFound && "\($0)".contains("nope") }
        let types = try await s.resourceTypes()
        #expect(types.last == ResourceTypeEntry(name: "Appliance", plugin: "unix", builtIn: false))
        #expect(!types.contains { $0.name == "Gadget" })
        #expect(try await b.auditOperations().filter { $0 == "create_resource_type" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("policies"))
    func passwordSettingsChangeTogetherOrNotAtAll(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let s = b.policies!
        #expect(try await s.passwordSettings() == PasswordSettings(requireReason: false, defaultPolicy: PasswordPolicy.strong.name))
        try await s.setPasswordSettings(requireReason: true, defaultPolicy: nil, audit: Self.event("update_settings"))
        await #expect { try await s.setPasswordSettings(requireReason: false, defaultPolicy: "nope", audit: Self.event("update_settings")) }
            throws: { ($0 as? StoreError)?.code == .notFound }
        #expect(try await s.passwordSettings() == PasswordSettings(requireReason: true, defaultPolicy: PasswordPolicy.strong.name), "as before")
        try await s.setPasswordSettings(requireReason: nil, defaultPolicy: PasswordPolicy.low.name, audit: Self.event("update_settings"))
        #expect(try await s.passwordSettings() == PasswordSettings(requireReason: true, defaultPolicy: PasswordPolicy.low.name))
        #expect(try await b.auditOperations().filter { $0 == "update_settings" }.count == 2)
    }
}
