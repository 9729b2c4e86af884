import Foundation

/// A run in a list: who started it and when, its state and counts, without its accounts.
struct RunListItem: Codable, Sendable {
    var id, trigger, requestedBy, state: String
    /// nil for an integrity run.
    var groupId: String?
    /// The group's name; nil for an integrity run.
    var group: String?
    var startedAt: Date
    var summary: RotationRunView.Summary

    init(_ v: RotationRunView, group: String?) {
        id = v.id; trigger = v.trigger; requestedBy = v.requestedBy; state = v.state; groupId = v.groupId
        self.group = group; startedAt = v.startedAt; summary = v.summary
    }
}

/// How a run's task ended, as its view shows it.
struct RunTaskOutcome: Sendable {
    var state: TaskRecord.State
    var code, message: String?
}

extension RotationRunView {
    /// A run as stored: its entries (JSON), kept to those `scope` sees, and its tasks' outcomes by id.
    init(id: String, trigger: String, requestedBy: String, groupId: String?, startedAt: Date, entries json: String,
        scope: ListScope?, outcomes: [String: RunTaskOutcome]) throws
    {
        let entries = try RunEntries.decode(json)
            .filter { scope?.sees(resourceId: $0.resourceId, accountId: $0.accountId) ?? true }
        var summary = Summary(total: entries.count, succeeded: 0, failed: 0, skipped: 0, pending: 0)
        let accounts = entries.map { e -> Account in
            var a = Account(resourceId: e.resourceId, accountId: e.accountId, resource: e.resource, account: e.account,
                state: "skipped", taskId: e.taskId, code: nil, message: e.skipped)
            guard let tid = e.taskId, let t = outcomes[tid] else {
                summary.skipped += 1
                return a
            }
            a.state = t.state.rawValue
            a.code = t.code
            a.message = t.message
            switch t.state {
            case .succeeded: summary.succeeded += 1
            case .failed, .cancelled: summary.failed += 1
            default: summary.pending += 1
            }
            return a
        }
        self.init(id: id, trigger: trigger, requestedBy: requestedBy, state: summary.pending == 0 ? "finished" : "running",
            groupId: groupId.flatMap { $0.isEmpty ? nil : $0 }, startedAt: startedAt, summary: summary, accounts: accounts)
    }
}
