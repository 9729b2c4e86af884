import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Trust II: two-person control that one person cannot meet alone. Only a super-administrator makes
/// administrators or resets their credentials, and an approval is refused when the approver was
/// created, promoted or last reset by the author.
@Suite struct TwoPersonTests {
    static func listener(_ api: API, author: String, approver: String) async throws -> String {
        let r = try await api.call(.post, "/listeners", token: author, json: ["name": "l-\(UUID().uuidString.prefix(6))", "kind": "script",
            "resourceTypes": ["Linux"], "script": "#!/bin/sh\n", "approver": approver])
        return try #require(r.object["id"] as? String, "\(r.text)")
    }

    @Test func anAdministratorCannotMakeOrResetAnotherAdministrator() async throws {
        try await Harness.make().run { api in
            let root = try await api.admin()
            let plain = try await api.user("plainadmin", role: "administrator", adminToken: root)
            let made = try await api.call(.post, "/users", token: plain,
                json: ["username": "sock", "password": "Puppet-Strings-Pass-1", "role": "administrator"])
            #expect(made.status == .forbidden, "\(made.text)")
            let user = try await api.call(.post, "/users", token: plain,
                json: ["username": "pu1", "password": "Plain-User-Pass-1", "role": "passwordUser"])
            #expect(user.status == .created, "everything else stays: \(user.text)")
            let uid = try #require(user.object["id"] as? String)
            #expect(try await api.call(.patch, "/users/\(uid)", token: plain, json: ["role": "administrator"]).status == .forbidden)
            #expect(try await api.call(.patch, "/users/\(uid)", token: plain, json: ["role": "passwordAdministrator"]).status == .ok)
            _ = try await api.user("otheradmin", role: "administrator", adminToken: root)
            let users = try await api.call(.get, "/users", token: root).array
            let other = try #require(users.first { $0["username"] as? String == "otheradmin" }?["id"] as? String)
            #expect(try await api.call(.patch, "/users/\(other)", token: plain, json: ["password": "Taken-Over-Pass-1"]).status == .forbidden)
            #expect(try await api.call(.delete, "/users/\(other)/totp", token: plain).status == .forbidden)
            #expect(try await api.call(.patch, "/users/\(other)", token: plain, json: ["email": "o@example.test"]).status == .ok)
        }
    }

    @Test func anApproverTheAuthorMadePromotedOrResetIsNoSecondPerson() async throws {
        try await Harness.make().run { api in
            let root = try await api.admin()
            let provisioner = try await api.provisioner(root)
            // made by root: refused for root's work
            let made = try await api.user("made-by-root", role: "administrator", superAdmin: false, createdBy: root)
            let l1 = try await Self.listener(api, author: root, approver: "made-by-root")
            let r1 = try await api.call(.post, "/listeners/\(l1)/approve", token: made)
            #expect(r1.status == .forbidden && r1.text.contains("created, promoted or last reset"), "\(r1.text)")
            // made by the provisioner, then promoted by root: refused
            _ = try await api.user("promoted", role: "passwordAdministrator", createdBy: provisioner)
            let users = try await api.call(.get, "/users", token: root).array
            let pid = try #require(users.first { $0["username"] as? String == "promoted" }?["id"] as? String)
            #expect(try await api.call(.patch, "/users/\(pid)", token: root, json: ["role": "administrator"]).status == .ok)
            let promoted = try await api.call(.post, "/auth/login", json: ["username": "promoted", "password": API.userPassword + "x"])
            let l2 = try await Self.listener(api, author: root, approver: "promoted")
            let r2 = try await api.call(.post, "/listeners/\(l2)/approve", token: try #require(promoted.object["token"] as? String))
            #expect(r2.status == .forbidden && r2.text.contains("created, promoted or last reset"), "\(r2.text)")
            // made by the provisioner, password reset by root: refused
            let reset = try await api.user("reset-by-root", role: "administrator", adminToken: root)
            let rid = try #require(try await api.call(.get, "/users", token: root).array.first { $0["username"] as? String == "reset-by-root" }?["id"] as? String)
            #expect(try await api.call(.patch, "/users/\(rid)", token: root, json: ["email": "r@example.test"]).status == .ok)
            let l3 = try await Self.listener(api, author: root, approver: "reset-by-root")
            #expect(try await api.call(.post, "/listeners/\(l3)/approve", token: reset).status == .ok, "an independent approver passes")
            #expect(try await api.call(.patch, "/users/\(rid)", token: root, json: ["password": "Root-Set-Pass-123"]).status == .ok)
            let again = try #require(try await api.call(.post, "/auth/login", json: ["username": "reset-by-root", "password": "Root-Set-Pass-123"])
                .object["token"] as? String)
            #expect(try await api.call(.post, "/auth/password", token: again,
                json: ["currentPassword": "Root-Set-Pass-123", "newPassword": "Own-Chosen-Pass-456"]).status == .noContent)
            let fresh = try #require(try await api.call(.post, "/auth/login", json: ["username": "reset-by-root", "password": "Own-Chosen-Pass-456"])
                .object["token"] as? String)
            let l4 = try await Self.listener(api, author: root, approver: "reset-by-root")
            let r4 = try await api.call(.post, "/listeners/\(l4)/approve", token: fresh)
            #expect(r4.status == .forbidden && r4.text.contains("created, promoted or last reset"), "after root reset its password: \(r4.text)")
        }
    }
}
