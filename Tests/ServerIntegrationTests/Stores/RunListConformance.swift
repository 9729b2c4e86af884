import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// The run lists on every backend: newest first, pages that add up to the whole list, a tie in
/// start time broken by id, the group and trigger filters, and counts over the accounts the caller sees.
@Suite struct RunListConformance {
    static let t0 = RunStoreConformance.t0
    static let ana = RunStoreConformance.ana
    static let cy = Principal(userID: "u-cy", username: "cy", role: .passwordUser, superAdmin: false, mustChangePassword: false, tokenID: "t")

    /// Every account a reset, but the first skipped.
    static let plan: @Sendable (GroupRecord, RotationConfig?, [[RunCandidate]]) throws -> [RunStep] = { _, _, resources in
        resources.flatMap { $0 }.enumerated().map { i, c in
            var step = RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                resource: c.target.resource.name, account: c.target.account.loginName))
            if i == 0 { step.entry.skipped = "first" } else { step.task = ResetEngine.newTask(.verify, c.target, by: "ana", reason: nil, at: t0) }
            return step
        }
    }

    static func pages(_ size: Int, _ kind: RunListQuery.Kind, groups: [String]? = nil, trigger: String? = nil, as p: Principal = ana,
        _ b: StoreBackend) async throws -> [RunListItem]
    {
        var all: [RunListItem] = []
        var req = PageRequest(limit: size)
        while true {
            let page = try await b.runs.runs(kind, groups: groups, trigger: trigger, req, visibleTo: p)
            #expect(page.items.count <= size)
            all += page.items
            guard let next = page.next else { return all }
            req.after = next
        }
    }

    @Test(arguments: StoreBackend.names("runs"))
    func runListsPageNewestFirst(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-cy", "cy")
        let g = try await RunStoreConformance.group(b)
        // Five runs; two start at the same second and are told apart by id.
        var started: [String] = []
        for (i, offset) in [0.0, 10.5, 10.5, 20.25, 30].enumerated() {
            let run = try #require(try await b.runs.startRotation(of: g.gid, trigger: i == 3 ? "schedule" : "manual", by: "ana",
                at: Self.t0.addingTimeInterval(offset), ranAt: nil, caller: Self.ana, authorize: { _ in }, due: { _ in true }, plan: Self.plan,
                audit: RunStoreConformance.runAudit))
            started.append(run.id)
        }
        let whole = try await Self.pages(1000, .rotation, b)
        #expect(whole.count == 5 && whole.first?.id == started[4] && whole.last?.id == started[0])
        #expect(zip(whole, whole.dropFirst()).allSatisfy { a, n in (a.startedAt, a.id) > (n.startedAt, n.id) })
        for size in [1, 2, 3] { #expect(try await Self.pages(size, .rotation, b).map(\.id) == whole.map(\.id)) }
        let first = try #require(whole.first)
        #expect(first.group == "web" && first.groupId == g.gid && first.trigger == "manual" && first.state == "running")
        #expect(first.summary.total == 2 && first.summary.skipped == 1 && first.summary.pending == 1)
        #expect(try await Self.pages(2, .rotation, groups: [g.gid], b).count == 5)
        #expect(try await Self.pages(2, .rotation, groups: [], b).isEmpty)
        #expect(try await Self.pages(2, .rotation, groups: ["g-none"], b).isEmpty)
        #expect(try await Self.pages(2, .rotation, trigger: "schedule", b).map(\.id) == [started[3]])
        // A password user who sees none of the accounts counts none of them.
        #expect(try await Self.pages(2, .rotation, as: Self.cy, b).allSatisfy { $0.summary.total == 0 && $0.state == "finished" })
        #expect(try await Self.pages(2, .integrity, b).isEmpty)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func integrityRunsListNewestFirst(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        _ = try await RunStoreConformance.group(b)
        let verifyAll: @Sendable ([[RunCandidate]]) throws -> [RunStep] = { resources in
            resources.flatMap { $0 }.map { c in
                RunStep(entry: RotationRunRecord.Entry(resourceId: c.target.resource.id, accountId: c.target.account.id,
                    resource: c.target.resource.name, account: c.target.account.loginName),
                    task: ResetEngine.newTask(.verify, c.target, by: "schedule", reason: nil, at: Self.t0))
            }
        }
        var ids: [String] = []
        for i in 0..<3 {
            let run = try #require(try await b.runs.startIntegrity(trigger: i == 1 ? "nightly" : "manual", by: "ana",
                at: Self.t0.addingTimeInterval(Double(i) * 0.001), nightly: nil, plan: verifyAll,
                audit: { _ in AuditEvent(user: "ana", ip: "t", operation: "integrity_run") }))
            ids.append(run.id)
        }
        let whole = try await Self.pages(1, .integrity, b)
        #expect(whole.map(\.id) == ids.reversed())
        #expect(whole.allSatisfy { $0.groupId == nil && $0.group == nil && $0.summary.total == 2 && $0.summary.pending == 2 })
        #expect(try await Self.pages(5, .integrity, trigger: "nightly", b).map(\.id) == [ids[1]])
        #expect(try await Self.pages(5, .rotation, b).isEmpty)
    }

    @Test(arguments: StoreBackend.names("runs"))
    func passwordAgesCoverTheAccountsTheCallerSees(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        try await b.addUser("u-cy", "cy")
        let f = try await TaskStoreConformance.fixture(b)
        _ = try await b.addAccount(f.rid, "no-password")
        try await b.setPassword(f.aid, Secret("Old-1!"))
        let ages = try await b.runs.passwordAges(visibleTo: Self.ana)
        #expect(ages.map(\.accountId) == [f.aid] && ages.first?.maxAgeDays == 90 && ages.first?.policy == "Strong", "the default policy: 90 days")
        let report = ExpiryReport(ages, at: try #require(ages.first).changedAt.addingTimeInterval(80 * 86400), withinDays: 14)
        #expect(report.summary.expiringSoon == 1 && report.summary.expired == 0 && report.accounts.first?.expired == false)
        #expect(ExpiryReport(ages, at: Date.distantFuture, withinDays: 0).summary.expired == 1)
        #expect(ExpiryReport(ages, at: try #require(ages.first).changedAt, withinDays: 14).accounts.isEmpty)
        #expect(try await b.runs.passwordAges(visibleTo: Self.cy).isEmpty, "a password user sees none of ana's accounts")
    }
}
