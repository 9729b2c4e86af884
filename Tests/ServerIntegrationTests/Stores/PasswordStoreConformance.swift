import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `PasswordStore` must do: a retrieval is decided on what is stored and
/// audited with it; a local change keeps the old password in history, is refused while a reset
/// may be changing the account, and a refusal changes and audits nothing.
@Suite struct PasswordStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let ana = TaskStoreConformance.ana
    static let bo = TaskStoreConformance.bo
    static let anyone: @Sendable (Permission) throws -> Void = { _ in }
    static let read: @Sendable (ResourceRecord, AccountRecord, Int, AccessRequestRecord?) -> AuditEvent = { _, a, n, _ in
        AuditEvent(user: "ana", ip: "t", operation: "retrieve_password", message: "\(a.loginName) \(n)")
    }
    static let changed: @Sendable (ResourceRecord, AccountRecord) -> AuditEvent = { _, _ in
        AuditEvent(user: "ana", ip: "t", operation: "change_password")
    }
    static let notice: @Sendable (ResourceRecord, AccountRecord) -> Notice = { _, a in Notice(NotificationFacts(.passwordChanged), accounts: [a.id]) }

    static func current(_ b: StoreBackend, _ f: (rid: String, aid: String)) async throws -> String? {
        guard case .found(let got) = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: ana, gate: nil, authorize: anyone, check: { _ in },
            audit: read) else { return nil }
        return got.current?.reveal() ?? ""
    }

    @Test(arguments: StoreBackend.names("passwords"))
    func aRetrievalIsDecidedOnWhatIsStoredAndAuditedWithIt(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let f = try await TaskStoreConformance.fixture(b)
        guard case .noPassword = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.ana, gate: nil, authorize: Self.anyone,
            check: { _ in }, audit: Self.read) else { Issue.record("no password stored yet"); return }
        try await b.setPassword(f.aid, Secret("Old-1!"))
        guard case .notVisible = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.bo, gate: nil, authorize: Self.anyone,
            check: { _ in }, audit: Self.read) else { Issue.record("bo cannot see it"); return }
        await #expect(throws: DomainError.self) {
            _ = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.ana, gate: nil, authorize: { _ in throw DomainError(.forbidden, "no", "no") },
                check: { _ in }, audit: Self.read)
        }
        try await b.policies.setPasswordSettings(requireReason: true, defaultPolicy: nil, audit: AuditEvent(user: "ana", ip: "t", operation: "settings"))
        await #expect(throws: DomainError.self) {
            _ = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.ana, gate: nil, authorize: Self.anyone,
                check: { required in if required { throw DomainError.invalid("reason_required", "why?") } }, audit: Self.read)
        }
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password" }.isEmpty)
        try await b.tasks.writePending(Secret("Cand-1!"), id: "p-cand", account: f.aid, by: "ana", at: Self.t0, task: "t-earlier")
        guard case .found(let got) = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.ana, gate: nil, authorize: Self.anyone,
            check: { #expect($0) }, audit: Self.read) else { Issue.record("found"); return }
        #expect(got.current?.reveal() == "Old-1!" && got.candidates.map(\.id) == ["p-cand"])
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password" }.count == 1)
    }

    /// An account whose password was never known: a first reset's candidate is still retrieved.
    @Test(arguments: StoreBackend.names("passwords"))
    func aCandidateOfAnAccountWithNoPasswordIsRetrieved(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await TaskStoreConformance.fixture(b)
        try await b.tasks.writePending(Secret("First-1!"), id: "p-first", account: f.aid, by: "ana", at: Self.t0, task: "t-first")
        guard case .found(let got) = try await b.passwords.retrieve(f.aid, of: f.rid, visibleTo: Self.ana, gate: nil, authorize: Self.anyone,
            check: { _ in }, audit: Self.read) else { Issue.record("the candidate is found"); return }
        #expect(got.current == nil && got.candidates.map { $0.secret.reveal() } == ["First-1!"])
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password" }.count == 1)
    }

    @Test(arguments: StoreBackend.names("passwords"))
    func aLocalChangeKeepsHistoryAndIsRefusedDuringAReset(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let f = try await TaskStoreConformance.fixture(b)
        try await b.setPassword(f.aid, Secret("Old-1!"))
        let changed = try await b.passwords.changeLocally(f.aid, of: f.rid, visibleTo: Self.ana, at: Self.t0, authorize: Self.anyone,
            decide: { facts in
                #expect(facts.account.id == f.aid && facts.recent.first?.reveal() == "Old-1!")
                return Secret("New-1!")
            }, listenerTrigger: "test", audit: Self.changed, notice: Self.notice)
        #expect(changed)
        #expect(try await Self.current(b, f) == "New-1!")
        await #expect(throws: DomainError.self) {
            _ = try await b.passwords.changeLocally(f.aid, of: f.rid, visibleTo: Self.ana, at: Self.t0, authorize: Self.anyone,
                decide: { facts in
                    #expect(facts.recent.map { $0.reveal() }.prefix(2) == ["New-1!", "Old-1!"])
                    throw DomainError.invalid("password_reused", "used before")
                }, listenerTrigger: "test", audit: Self.changed, notice: Self.notice)
        }
        _ = try await TaskStoreConformance.queue(b, .reset, f)
        await #expect(throws: DomainError.self) {
            _ = try await b.passwords.changeLocally(f.aid, of: f.rid, visibleTo: Self.ana, at: Self.t0, authorize: Self.anyone,
                decide: { _ in Issue.record("refused before deciding"); return Secret("Never-1!") }, listenerTrigger: "test", audit: Self.changed,
                notice: Self.notice)
        }
        #expect(try await Self.current(b, f) == "New-1!")
        #expect(try await b.auditOperations().filter { $0 == "change_password" }.count == 1)
        #expect(try await b.passwords.changeLocally(f.aid, of: f.rid, visibleTo: Self.bo, at: Self.t0, authorize: Self.anyone,
            decide: { _ in Secret("Never-1!") }, listenerTrigger: "test", audit: Self.changed, notice: Self.notice) == false)
    }

    @Test(arguments: StoreBackend.names("passwords"))
    func theHistoryListsVersionsNewestFirstAndRevealsOnlyWhenAsked(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let f = try await TaskStoreConformance.fixture(b)
        try await b.setPassword(f.aid, Secret("First-1!"))
        for pw in ["Second-2!", "Third-3!"] {
            #expect(try await b.passwords.changeLocally(f.aid, of: f.rid, visibleTo: Self.ana, at: Self.t0, authorize: Self.anyone,
                decide: { _ in Secret(pw) }, listenerTrigger: "t", audit: { _, _ in AuditEvent(user: "ana", ip: "10.0.0.9", operation: "change_password") },
                notice: Self.notice))
        }
        #expect(try await b.passwords.history(f.aid, of: f.rid, visibleTo: Self.bo, authorize: Self.anyone, reveal: nil) == nil)
        let plain = try #require(try await b.passwords.history(f.aid, of: f.rid, visibleTo: Self.ana, authorize: Self.anyone, reveal: nil))
        #expect(plain.map(\.current) == [true, false, false] && plain.allSatisfy { $0.password == nil })
        #expect(plain.prefix(2).map(\.how) == ["local", "local"] && plain.prefix(2).map(\.ip) == ["10.0.0.9", "10.0.0.9"])
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password_history" }.isEmpty)
        let shown = try #require(try await b.passwords.history(f.aid, of: f.rid, visibleTo: Self.ana, authorize: Self.anyone,
            reveal: { _, _, n in AuditEvent(user: "ana", ip: "t", operation: "retrieve_password_history", message: "\(n)") }))
        #expect(shown.map { $0.password?.reveal() } == ["Third-3!", "Second-2!", "First-1!"])
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password_history" }.count == 1)
        await #expect(throws: DomainError.self) {
            _ = try await b.passwords.history(f.aid, of: f.rid, visibleTo: Self.ana, authorize: { _ in throw DomainError(.forbidden, "no", "no") },
                reveal: { _, _, _ in AuditEvent(user: "ana", ip: "t", operation: "retrieve_password_history") })
        }
        #expect(try await b.auditOperations().filter { $0 == "retrieve_password_history" }.count == 1, "a refusal appends nothing here")
    }
}
