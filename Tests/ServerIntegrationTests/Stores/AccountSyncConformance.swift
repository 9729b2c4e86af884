import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// What every backend's `AccountStore.syncReported` must do: only resources in agent mode bound to
/// the reporting agent are planned; what the plan adds and changes is stored with its audit records.
@Suite struct AccountSyncConformance {
    @Test(arguments: StoreBackend.names("accounts"))
    func onlyTheAgentsBoundResourcesInAgentModeAreSynced(_ name: String) async throws {
        let b = try await StoreBackend.make(name)
        try await b.addUser("u-ana", "ana")
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        try await b.addAgent(StoreBackend.agent("ag-1", at: t0))
        try await b.addAgent(StoreBackend.agent("ag-2", host: "web02", at: t0))
        let mine = try await b.ownResource("u-ana"), agentless = try await b.ownResource("u-ana"), theirs = try await b.ownResource("u-ana")
        try await b.agentMode(mine, "web01")
        try await b.agentMode(theirs, "web02")
        try await b.resetConfig(agentless, #"{"mode":"agentless"}"#)
        try await b.bind("ag-1", mine)
        try await b.bind("ag-1", agentless)
        try await b.bind("ag-2", theirs)
        let kept = try await b.addAccount(mine, "kept")
        let planned = Seen()
        try await b.accounts.syncReported(by: "ag-1") { r, config, existing in
            planned.add(r.id)
            #expect(config.mode == .agent && existing.map(\.loginName) == ["kept"])
            var gone = existing[0]
            gone.syncStatus = .missing
            let added = AccountRecord(id: "a-new", resourceId: r.id, loginName: "new", description: nil, notes: nil, customFields: [:],
                syncStatus: .neverChecked, lastVerifiedAt: nil, lastChangedAt: nil, createdAt: t0)
            return AccountSyncPlan(add: [(added, AuditEvent(user: "agent", ip: "agent", operation: "account_sync_added"))],
                update: [(gone, AuditEvent(user: "agent", ip: "agent", operation: "account_sync_missing"))])
        }
        #expect(planned.values == [mine])
        let ana = AccountStoreConformance.ana
        let accounts = try await b.accounts.accounts(of: mine, visibleTo: ana, syncStatus: nil, authorize: { _ in })
        #expect(accounts?.map(\.loginName) == ["kept", "new"] && accounts?.first { $0.id == kept }?.syncStatus == .missing)
        #expect(try await b.auditOperations().suffix(2) == ["account_sync_added", "account_sync_missing"])
    }
}
