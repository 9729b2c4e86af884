import Foundation

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

    /// `groups` (rotation runs only): nil for every group, else those ids (never empty). The
    /// columns come in one order for both kinds; the SQLite store reads them by position.
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
