import Foundation
import GRDB

/// `BackupStore` on SQLite: SQLite's online backup from a read transaction (a snapshot that
/// writers do not disturb, WAL), never a copy of the live files.
struct SQLiteBackupStore: BackupStore {
    let db: DatabasePool
    let notices: SQLiteNotices

    func snapshot(into path: String, progress: @escaping @Sendable (Double) -> Void) async throws {
        try await Blocking.run { [db] in try Self.copy(db, to: path, progress: progress) }
    }

    /// The online backup into a new file, in steps so a long one reports progress.
    static func copy(_ source: some DatabaseReader, to path: String, progress: @escaping (Double) -> Void) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError(.io, "\(path) exists already") }
        let target = try DatabaseQueue(path: path)
        try source.backup(to: target, pagesPerStep: 1024) { p in
            if p.totalPageCount > 0 { progress(Double(p.completedPageCount) / Double(p.totalPageCount)) }
        }
        try target.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        try target.close()
    }

    func record(_ event: AuditEvent, failure: NotificationFacts?) async throws {
        try await db.write { [notices] db in
            try AuditLog.append(event, in: db)
            guard let failure else { return }
            let supers = try String.fetchAll(db, sql: "SELECT id FROM users WHERE superAdmin = 1")
            try notices.queue(Notice(failure, users: supers), db)
        }
    }
}
