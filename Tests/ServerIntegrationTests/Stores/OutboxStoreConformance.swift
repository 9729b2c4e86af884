import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `OutboxStore` must do.
@Suite struct OutboxStoreConformance {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func entry(_ id: String, at t: Date, channel: OutboxChannel = .email, about: [String] = []) -> OutboxEntry {
        OutboxEntry(id: id, event: "password_reset", channel: channel, recipient: channel == .email ? "\(id)@example.test" : "syslog",
            subject: "s-\(id)", body: "b-\(id)", fields: [["user", "root"], ["event", "password_reset"]], accountIds: about, createdAt: t,
            nextAttemptAt: t)
    }

    @Test(arguments: StoreBackend.names("outbox"))
    func entriesAreDueOldestFirstFromTheirTimeAndReadBackAsStored(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        let later = entry("n2", at: t0 + 10, channel: .syslog, about: ["acc-1", "acc-2"])
        try await b.outbox.add([later, entry("n1", at: t0), entry("n3", at: t0 + 20)])
        #expect(try await b.outbox.due(at: t0 - 1, limit: 10).isEmpty)
        #expect(try await b.outbox.due(at: t0 + 10, limit: 10).map(\.id) == ["n1", "n2"])
        #expect(try await b.outbox.due(at: t0 + 30, limit: 2).map(\.id) == ["n1", "n2"], "up to the limit")
        #expect(try await b.outbox.due(at: t0 + 10, limit: 10).last == later, "every field read back")
    }

    @Test(arguments: StoreBackend.names("outbox"))
    func aSentEntryIsNotDueAgainAndAFailureWaitsForItsNextAttempt(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.outbox.add([entry("ok", at: t0), entry("retry", at: t0), entry("dead", at: t0)])
        try await b.outbox.markSent("ok", at: t0 + 1)
        try await b.outbox.markFailed("retry", attempts: 1, next: t0 + 60, error: "connection refused", giveUp: nil)
        let audit = AuditEvent(user: "system", ip: "server", operation: "notification_failed", outcome: "failure", message: "dead")
        try await b.outbox.markFailed("dead", attempts: 5, next: t0 + 60, error: "550 no such user", giveUp: audit)
        #expect(try await b.outbox.due(at: t0 + 59, limit: 10).isEmpty)
        let retry = try #require(try await b.outbox.due(at: t0 + 60, limit: 10).first)
        #expect(retry.id == "retry" && retry.attempts == 1 && retry.lastError == "connection refused" && retry.state == .pending)
        let all = try await b.outbox.page(state: nil, limit: 10, offset: 0)
        let sent = try #require(all.first { $0.id == "ok" })
        #expect(sent.state == .sent && sent.sentAt == t0 + 1 && sent.attempts == 1)
        #expect(all.first { $0.id == "dead" }?.state == .failed)
        #expect(try await b.auditOperations().filter { $0 == "notification_failed" }.count == 1, "giving up is audited once")
    }

    @Test(arguments: StoreBackend.names("outbox"))
    func pagesAreNewestFirstAndFilterByState(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.outbox.add((0..<5).map { entry("n\($0)", at: t0 + Double($0)) })
        try await b.outbox.markSent("n1", at: t0 + 9)
        #expect(try await b.outbox.page(state: nil, limit: 2, offset: 0).map(\.id) == ["n4", "n3"])
        #expect(try await b.outbox.page(state: nil, limit: 2, offset: 2).map(\.id) == ["n2", "n1"])
        #expect(try await b.outbox.page(state: .sent, limit: 10, offset: 0).map(\.id) == ["n1"])
        #expect(try await b.outbox.page(state: .pending, limit: 10, offset: 0).map(\.id) == ["n4", "n3", "n2", "n0"])
        #expect(try await b.outbox.page(state: .failed, limit: 10, offset: 0).isEmpty)
    }
}
