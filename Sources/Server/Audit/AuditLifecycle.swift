import Foundation
import Logging

/// The audit trail's life cycle: old records purged into an archive that verifies on its own
/// (super-administrators, or daily under `auditRetentionDays`), archives listed and fetched, and
/// any range exported a page at a time.
struct AuditLifecycle: Sendable {
    struct Settings: Sendable {
        var archiveDir: String
        /// Purge records older than this many days, daily; 0: never.
        var retentionDays = 0
    }

    struct PurgeResult: Codable, Sendable, Equatable {
        var records: Int
        var archive: String?
        var firstId: Int64?
        var lastId: Int64?
        var bytes: Int?
    }

    struct ArchiveInfo: Codable, Sendable, Equatable {
        var name: String
        var bytes: Int
        var createdAt: Date
    }

    let store: any AuditPurgeStore
    let trail: any AuditStore
    /// The audit key (the archive's digests are checked and its trailer authenticated with it).
    let auditKey: @Sendable () -> Data?
    let authorizer: Authorizer
    let settings: Settings
    let logger: Logger
    let now: @Sendable () -> Date
    let running = BackupGate()
    let lastRetention = AttemptBox()

    func purge(before: Date, by p: Principal, ip: String) async throws -> PurgeResult {
        try authorizer.check(p, .manageBackups)
        // The last day is never purged: nobody can hide what they just did.
        guard before <= now().addingTimeInterval(-Self.minimumAge) else {
            throw DomainError.invalid("invalid_field", "before must be at least a day ago: the records of the last day are never purged")
        }
        do {
            return try await purge(before: before, user: p.username, ip: ip)
        } catch {
            try? await trail.append(AuditEvent(user: p.username, ip: ip, operation: "purge_audit", outcome: "failure",
                message: "purge of the records older than \(Notice.stamp(before)) failed: \(error)"))
            throw error
        }
    }

    static let minimumAge: TimeInterval = 86_400

    func purge(before: Date, user: String, ip: String) async throws -> PurgeResult {
        guard running.enter() else { throw DomainError.conflict("a purge is already under way") }
        defer { running.leave() }
        guard let key = auditKey() else { throw VaultError(.keyMissing, "the audit key is not loaded") }
        guard let plan = try await store.purgePlan(before: before) else {
            try await trail.append(AuditEvent(user: user, ip: ip, operation: "purge_audit",
                message: "no record older than \(Notice.stamp(before)): nothing purged"))
            return PurgeResult(records: 0)
        }
        try FileManager.default.createDirectory(atPath: settings.archiveDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let at = Date(timeIntervalSince1970: now().timeIntervalSince1970.rounded(.down))  // the archive keeps whole seconds
        let name = "custody-audit-\(plan.firstId)-\(plan.lastId)-\(Int(at.timeIntervalSince1970)).jsonl"
        let path = settings.archiveDir + "/" + name
        let partial = path + ".partial"
        let header = AuditArchive.Header(firstId: plan.firstId, lastId: plan.lastId, count: plan.count, prevHash: plan.prevHash,
            lastHash: plan.lastHash, before: before, createdAt: at)
        let bytes = try await AuditArchive.write(to: partial, header: header, key: key) { after in try await store.records(after: after, limit: 1000) }
        // The archive takes its name once the records are gone; until then it is only a copy.
        func publish() throws {
            guard rename(partial, path) == 0 else { throw DomainError.conflict("the records were purged but \(partial) cannot be renamed to \(name)") }
            MasterKey.syncDirectory(of: path)
        }
        do {
            let removed = try await store.purge(plan, audit: AuditEvent(user: user, ip: ip, operation: "purge_audit",
                message: "records \(plan.firstId)...\(plan.lastId) (\(plan.count)) older than \(Notice.stamp(before)) moved to the archive \(name); "
                    + "the trail now starts after record \(plan.lastId), hash \(plan.lastHash)"))
            try publish()
            logger.notice("audit records purged into an archive", metadata: ["archive": "\(name)", "records": "\(removed)"])
            return PurgeResult(records: removed, archive: name, firstId: plan.firstId, lastId: plan.lastId, bytes: bytes)
        } catch {
            // A commit whose answer was lost may have happened: the checkpoint says.
            if (try? await store.purged(plan)) == true {
                try publish()
                return PurgeResult(records: plan.count, archive: name, firstId: plan.firstId, lastId: plan.lastId, bytes: bytes)
            }
            unlink(partial)  // the records are still in the trail
            throw error
        }
    }

    /// Under `auditRetentionDays`, once a day.
    @discardableResult
    func runDue() async throws -> PurgeResult? {
        guard settings.retentionDays > 0 else { return nil }
        if let last = lastRetention.value, now().timeIntervalSince(last) < 86_400 { return nil }
        lastRetention.set(now())
        let before = now().addingTimeInterval(-Double(settings.retentionDays) * 86_400)
        do {
            return try await purge(before: before, user: "retention", ip: "server")
        } catch {
            try? await trail.append(AuditEvent(user: "retention", ip: "server", operation: "purge_audit", outcome: "failure",
                message: "retention purge of the records older than \(Notice.stamp(before)) failed: \(error)"))
            throw error
        }
    }

    func archives(by p: Principal) throws -> [ArchiveInfo] {
        try authorizer.check(p, .manageBackups)
        let fm = FileManager.default
        return ((try? fm.contentsOfDirectory(atPath: settings.archiveDir)) ?? []).filter(Self.isArchiveName).compactMap { name in
            let attrs = try? fm.attributesOfItem(atPath: settings.archiveDir + "/" + name)
            guard let size = attrs?[.size] as? Int, let at = attrs?[.modificationDate] as? Date else { return nil }
            return ArchiveInfo(name: name, bytes: size, createdAt: at)
        }.sorted { $0.createdAt > $1.createdAt }
    }

    /// The file of an archive this server wrote; a name of any other shape is not found.
    func archivePath(_ name: String, by p: Principal) throws -> String {
        try authorizer.check(p, .manageBackups)
        let path = settings.archiveDir + "/" + name
        guard Self.isArchiveName(name), FileManager.default.fileExists(atPath: path) else { throw DomainError.notFound("audit archive") }
        return path
    }

    static func isArchiveName(_ name: String) -> Bool {
        name.range(of: #"^custody-audit-[0-9]+-[0-9]+-[0-9]+\.jsonl$"#, options: .regularExpression) != nil
    }

    /// Every record matching `q` the caller may see, oldest first, a page at a time.
    func export(_ q: AuditLog.Query, by p: Principal, page: ([AuditEntry]) async throws -> Void) async throws {
        try authorizer.check(p, .readAudit)
        var q = q
        q.oldestFirst = true
        q.limit = 1000
        // What exists when the export starts: it ends even while records keep coming.
        q.beforeID = try await store.lastId() + 1
        while true {
            let rows = try await trail.entries(q, visibleTo: p)
            guard let last = rows.last else { return }
            try await page(rows)
            q.afterID = last.id
        }
    }
}
