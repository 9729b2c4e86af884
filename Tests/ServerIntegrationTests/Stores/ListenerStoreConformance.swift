import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `ListenerStore` must do: names are unique; a listener that is a resource
/// type's plugin is neither renamed nor deleted; a change is decided on what is stored and a
/// refusal changes and audits nothing; a run queued by a commit is claimed once, and one a stop
/// interrupted is audited and dropped, never run again.
@Suite struct ListenerStoreConformance {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let audited: @Sendable (ListenerFacts) -> ListenerEffects = { f in
        ListenerEffects(audit: [AuditEvent(user: "ana", ip: "t", operation: "listener_change", message: "\(f.record.name) \(f.record.status.rawValue)")])
    }

    static func listener(_ name: String, approver: UserRecord?, types: [String] = ["Linux"], kind: ListenerRecord.Kind = .script,
        revision: Int = 1) throws -> ListenerRecord
    {
        guard let approver else { throw DomainError.invalid("invalid_approver", "no such approver") }
        return ListenerRecord(id: "l-" + name, name: name, kind: kind, resourceTypes: types, sealedScript: Data([1]), executable: nil,
            sha256: nil, preCommand: nil, additionalParameters: [], secretsVia: .stdin, timeoutSeconds: 5, status: .pendingApproval,
            revision: revision, authorId: "u-ana", approverId: approver.id, approvedById: nil, approvedAt: nil, createdAt: t0, updatedAt: t0)
    }

    @Test(arguments: StoreBackend.names("listeners"))
    func namesAreUniqueAndAPluginOfATypeStays(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        let made = try await b.listeners.create(name: "notify", approverRef: "bo", make: { try Self.listener("notify", approver: $0) },
            effects: Self.audited)
        #expect(made.author == "ana" && made.approver == "bo" && made.unknownTypes.isEmpty)
        await #expect(throws: DomainError.self) {
            _ = try await b.listeners.create(name: "notify", approverRef: "bo", make: { try Self.listener("notify", approver: $0) },
                effects: Self.audited)
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.listeners.create(name: "other", approverRef: "nobody", make: { try Self.listener("other", approver: $0) },
                effects: Self.audited)
        }
        let typed = try await b.listeners.create(name: "credfile", approverRef: "u-bo",
            make: { try Self.listener("credfile", approver: $0, types: ["Cred File"], kind: .custom) }, effects: Self.audited)
        #expect(typed.unknownTypes == ["Cred File"])
        try await b.policies.addResourceType(name: "Cred File", plugin: "external:credfile", customListener: "credfile", check: {},
            audit: AuditEvent(user: "ana", ip: "t", operation: "add_resource_type"))
        #expect(try await b.listeners.listener("credfile")?.unknownTypes.isEmpty == true)
        await #expect(throws: DomainError.self) {
            _ = try await b.listeners.update("credfile", name: "renamed", approverRef: "bo",
                make: { old, a in try Self.listener("renamed", approver: a, revision: old.revision + 1) }, effects: Self.audited)
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.listeners.delete("l-credfile", dropped: { _, _ in AuditEvent(user: "ana", ip: "t", operation: "dropped") },
                effects: Self.audited)
        }
        await #expect(throws: DomainError.self) {
            _ = try await b.listeners.transition("notify", by: "u-ana", decide: { l, me in
                #expect(me?.username == "ana")
                throw DomainError(.forbidden, "dual_control", "the author never approves")
            }, effects: Self.audited)
        }
        let approved = try await b.listeners.transition("l-notify", by: "u-bo", decide: { l, _ in
            var l = l
            l.status = .active
            l.approvedById = "u-bo"
            return l
        }, effects: Self.audited)
        #expect(approved?.record.status == .active && approved?.approvedBy == "bo")
        #expect(try await b.listeners.listeners().map(\.record.name) == ["credfile", "notify"])
        #expect(try await b.listeners.transition("none", by: "u-bo", decide: { l, _ in l }, effects: Self.audited) == nil)
        #expect(try await b.auditOperations().filter { $0 == "listener_change" }.count == 3)
    }

    @Test(arguments: StoreBackend.names("listeners"))
    func aRunQueuedByACommitIsClaimedOnceAndAnInterruptedOneIsDropped(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-bo", "bo")
        _ = try await b.listeners.create(name: "notify", approverRef: "bo", make: { try Self.listener("notify", approver: $0) },
            effects: Self.audited)
        _ = try await b.listeners.transition("notify", by: "u-bo", decide: { l, _ in
            var l = l
            l.status = .active
            return l
        }, effects: Self.audited)
        let f = try await TaskStoreConformance.fixture(b)
        for n in 1...2 {
            var t = try await TaskStoreConformance.queue(b, .reset, f, at: Self.t0.addingTimeInterval(Double(n)))
            try await b.tasks.writePending(Secret("New-\(n)!"), id: "p\(n)", account: f.aid, by: "ana", at: Self.t0, task: t.id)
            t.pendingSecretId = "p\(n)"
            t.end(.succeeded, code: "ok", message: "ok", at: Self.t0)
            try await b.tasks.commit(TaskWrite(task: t), at: Self.t0, listenerTrigger: "task \(n)")
        }
        let first = try await b.listeners.claimRuns(limit: 1)
        #expect(first.count == 1 && first.first?.state == .running && first.first?.trigger == "task 1")
        let facts = try await b.listeners.runFacts(try #require(first.first))
        #expect(facts.listener?.name == "notify" && facts.account?.id == f.aid && facts.config?.mode == .agentless)
        try await b.listeners.finish(try #require(first.first), audit: AuditEvent(user: "system", ip: "t", operation: "listener_run"))
        let second = try await b.listeners.claimRuns(limit: 5)
        #expect(second.map(\.trigger) == ["task 2"])
        #expect(try await b.listeners.claimRuns(limit: 5).isEmpty)
        #expect(try await b.listeners.abandonInterrupted { run, listener in
            AuditEvent(user: "system", ip: "t", operation: "listener_run", message: "\(listener) \(run.trigger) interrupted")
        } == 1)
        #expect(try await b.listeners.abandonInterrupted { _, _ in AuditEvent(user: "s", ip: "t", operation: "x") } == 0)
        #expect(try await b.auditOperations().filter { $0 == "listener_run" }.count == 2)
    }
}
