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

/// A run's row as a run list reads it.
struct StoredRun: Sendable {
    var id, groupId, groupName, trigger, requestedBy, entries: String
    /// The start as stored, in seconds.
    var seconds: Double

    func item(scope: ListScope, outcomes: [String: RunTaskOutcome]) throws -> RunListItem {
        let view = try RotationRunView(id: id, trigger: trigger, requestedBy: requestedBy, groupId: groupId,
            startedAt: Date(timeIntervalSince1970: seconds), entries: entries, scope: scope, outcomes: outcomes)
        return RunListItem(view, group: groupName.isEmpty ? nil : groupName)
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
        let entries = try JSONDecoder.api.decode([RotationRunRecord.Entry].self, from: Data(json.utf8))
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

/// The SQL of the run lists, the same text for SQLite and PostgreSQL: a page newest first after
/// the cursor, and the outcomes of the tasks of the runs on it.
enum RunListQuery {
    enum Kind: Sendable { case rotation, integrity }

    /// A page of runs reads each run's accounts and tasks: at most 100 runs a page.
    static let maxLimit = 100

    /// Runs are listed newest first; a cursor holds the exact stored start time (seconds) and the id.
    static func cursor(_ run: StoredRun) -> PageCursor { PageCursor(key: String(run.seconds), id: run.id) }

    /// A cursor of another list (its key is no time) is refused rather than read from the start.
    static func check(_ req: PageRequest) throws {
        if let after = req.after, !(Double(after.key)?.isFinite ?? false) {
            throw DomainError.invalid("invalid_cursor", "cursor is not one of this list's")
        }
    }

    /// `groups` (rotation runs only): nil for every group, else those ids (never empty).
    static func page(_ kind: Kind, groups: [String]?, trigger: String?, _ req: PageRequest) -> (sql: String, args: [RunListArg]) {
        var clauses: [String] = []
        var args: [RunListArg] = []
        if let groups {
            clauses.append("r.groupId IN (\(Array(repeating: "?", count: groups.count).joined(separator: ", ")))")
            args += groups.map { .text($0) }
        }
        if let trigger {
            clauses.append("r.trigger = ?")
            args.append(.text(trigger))
        }
        if let after = req.after, let at = Double(after.key) {
            clauses.append("(r.startedAt < ? OR (r.startedAt = ? AND r.id < ?))")
            args += [.real(at), .real(at), .text(after.id)]
        }
        let filter = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let from = kind == .rotation
            ? "SELECT r.id, r.groupId, g.name AS groupName, r.trigger, r.requestedBy, r.startedAt, r.entries FROM rotationRuns r JOIN groups g ON g.id = r.groupId"
            : "SELECT r.id, '' AS groupId, '' AS groupName, r.trigger, r.requestedBy, r.startedAt, r.entries FROM integrityRuns r"
        return ("\(from) \(filter) ORDER BY r.startedAt DESC, r.id DESC LIMIT \(req.fetchLimit)", args)
    }

    /// The outcomes of the tasks of `runs`.
    static func outcomes(_ kind: Kind, runs: Int) -> String {
        let column = kind == .rotation ? "rotationRunId" : "integrityRunId"
        return "SELECT id, state, resultCode, resultMessage FROM tasks WHERE \(column) IN (\(Array(repeating: "?", count: runs).joined(separator: ", ")))"
    }
}

/// A bound value of a run list's SQL.
enum RunListArg: Sendable {
    case text(String), real(Double)
}
