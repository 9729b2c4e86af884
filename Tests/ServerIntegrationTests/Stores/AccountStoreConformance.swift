import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AccountStore` must do: a grant on the resource shows every account, an
/// account's share only that one (and its resource, as view); an account belongs to its own
/// resource only; a change is decided on the stored account; no deletion during a reset.
@Suite struct AccountStoreConformance {
    static func principal(_ id: String, _ name: String) -> Principal {
        Principal(userID: id, username: name, role: .passwordAdministrator, superAdmin: false, mustChangePassword: false, tokenID: "t")
    }
    static let ana = principal("u-ana", "ana"), bo = principal("u-bo", "bo")
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static func event(_ r: ResourceRecord, _ a: AccountRecord) -> AuditEvent {
        AuditEvent(user: "ana", ip: "test", operation: "account_change", resource: r.name, account: a.loginName)
    }

    @Test(arguments: StoreBackend.names("accounts"))
    func aResourceGrantShowsAllAccountsAndAnAccountShareOnlyItself(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let rid = try await b.ownResource("u-ana"), other = try await b.ownResource("u-ana")
        let svc = try await b.addAccount(rid, "svc"), app = try await b.addAccount(rid, "app")
        #expect(try await b.accounts.accounts(of: rid, visibleTo: Self.ana, syncStatus: nil, authorize: Self.anyone)?.map(\.loginName) == ["app", "svc"])
        #expect(try await b.accounts.accounts(of: rid, visibleTo: Self.ana, syncStatus: .inSync, authorize: Self.anyone)?.isEmpty == true)
        #expect(try await b.accounts.accounts(of: rid, visibleTo: Self.bo, syncStatus: nil, authorize: Self.anyone) == nil)
        try await b.share("account", svc, "u-bo", "view")
        let seen = Seen()
        let record: @Sendable (Permission) throws -> Void = { seen.add("\($0)") }
        #expect(try await b.accounts.accounts(of: rid, visibleTo: Self.bo, syncStatus: nil, authorize: record)?.map(\.id) == [svc])
        #expect(seen.values == ["view"], "an account's share shows its resource as view")
        #expect(try await b.accounts.account(app, of: rid, visibleTo: Self.bo, authorize: Self.anyone) == nil)
        #expect(try await b.accounts.account(svc, of: other, visibleTo: Self.ana, authorize: Self.anyone) == nil, "only under its own resource")
        #expect(try await b.accounts.account(svc, of: rid, visibleTo: Self.bo, authorize: Self.anyone)?.loginName == "svc")
    }

    @Test(arguments: StoreBackend.names("accounts"))
    func aChangeIsDecidedOnTheStoredAccountAndNothingIsDeletedDuringAReset(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let rid = try await b.ownResource("u-ana")
        let svc = try await b.addAccount(rid, "svc"), app = try await b.addAccount(rid, "app")
        try await b.share("account", app, "u-bo", "view")
        await #expect { _ = try await b.accounts.update(app, of: rid, by: Self.bo, { _, have in
            if have < .modify { throw DomainError.forbidden("view only") }
            return try #require(nil as AccountRecord?)
        }, audit: Self.event) } throws: { ($0 as? DomainError)?.kind == .forbidden }
        let updated = try await b.accounts.update(svc, of: rid, by: Self.ana, { a, _ in var a = a; a.notes = "rotated monthly"; return a },
            audit: Self.event)
        #expect(updated?.notes == "rotated monthly")
        #expect(try await b.accounts.account(svc, of: rid, visibleTo: Self.ana, authorize: Self.anyone)?.notes == "rotated monthly")
        try await b.queueReset(rid, svc)
        await #expect { _ = try await b.accounts.delete(svc, of: rid, by: Self.ana, authorize: Self.anyone, audit: Self.event) } throws: {
            ($0 as? DomainError)?.code == "reset_in_progress"
        }
        #expect(try await b.accounts.account(svc, of: rid, visibleTo: Self.ana, authorize: Self.anyone) != nil)
        #expect(try await b.accounts.delete(app, of: rid, by: Self.ana, authorize: Self.anyone, audit: Self.event))
        #expect(try await b.objectShares("account", app) == 0, "its shares go with it")
        #expect(try await b.accounts.delete(app, of: rid, by: Self.ana, authorize: Self.anyone, audit: Self.event) == false)
        #expect(try await b.auditOperations().filter { $0 == "account_change" }.count == 2, "the update and the one deletion")
    }
}
