import Foundation
import Logging
import Shared

/// The server's own backups: made on request by a super-administrator (`POST /backups`) and on
/// `backupSchedule`, into `backupDir`, one at a time. Each is audited; a failed one notifies the
/// super-administrators. Scheduled ones beyond `backupKeep` are removed, oldest first.
struct BackupService: Sendable {
    struct Settings: Sendable {
        var dir: String
        var keep = 14
        var schedule: RotationSchedule? = nil
        var passphraseFile: String? = nil
        var sources = BackupSources()
        var storeKind = "sqlite"
    }

    let store: any BackupStore
    let authorizer: Authorizer
    let vault: Vault
    let settings: Settings
    let logger: Logger
    let now: @Sendable () -> Date
    let running = BackupGate()
    /// The last scheduled attempt, failed or not: a failure waits for the next scheduled time.
    let lastAttempt = AttemptBox()

    func create(by p: Principal, ip: String) async throws -> BackupInfo {
        try authorizer.check(p, .manageBackups)
        return try await make(trigger: .manual, user: p.username, ip: ip)
    }

    func list(by p: Principal) throws -> [BackupInfo] {
        try authorizer.check(p, .manageBackups)
        return BackupInfo.list(settings.dir)
    }

    /// The scheduled backup, when its time has come since the last one (or since `startedAt`).
    @discardableResult
    func runDue(startedAt: Date) async throws -> BackupInfo? {
        guard let schedule = settings.schedule else { return nil }
        let made = BackupInfo.list(settings.dir).filter { $0.trigger == .scheduled }.map(\.createdAt).max() ?? startedAt
        let last = max(made, lastAttempt.value ?? made)
        guard let next = schedule.next(after: last, saved: last), next <= now() else { return nil }
        lastAttempt.set(now())
        return try await make(trigger: .scheduled, user: "schedule", ip: "server")
    }

    func make(trigger: BackupInfo.Trigger, user: String, ip: String) async throws -> BackupInfo {
        guard running.enter() else { throw DomainError.conflict("a backup is already being made; try again when it ends") }
        defer { running.leave() }
        let at = now()
        let name = BackupInfo.fileName(at, trigger)
        let started = ContinuousClock.now
        do {
            let info = try await write(name: name, at: at, trigger: trigger)
            let seconds = (ContinuousClock.now - started).seconds
            try await store.record(AuditEvent(user: user, ip: ip, operation: "create_backup",
                message: "\(trigger.rawValue) backup \(name): \(info.bytes) bytes, \(info.counts?.accounts ?? 0) accounts, "
                    + "\(info.counts?.auditRecords ?? 0) audit records, sealed with \(info.mode.rawValue), \(String(format: "%.1f", seconds)) s"),
                failure: nil)
            if trigger == .scheduled { prune() }
            return info
        } catch {
            let why = (error as? BackupError)?.message ?? "\(type(of: error)): \(error)"
            logger.error("backup failed", metadata: ["name": "\(name)", "error": "\(why)"])
            var facts = NotificationFacts(.backupFailed)
            (facts.user, facts.ip, facts.status, facts.message) = (user, ip, "failure", "The \(trigger.rawValue) backup \(name) failed: \(why)")
            try? await store.record(AuditEvent(user: user, ip: ip, operation: "create_backup", outcome: "failure",
                message: "\(trigger.rawValue) backup \(name) failed: \(why)"), failure: facts)
            throw error
        }
    }

    private func write(name: String, at: Date, trigger: BackupInfo.Trigger) async throws -> BackupInfo {
        try FileManager.default.createDirectory(atPath: settings.dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        removeLeftovers()
        let path = settings.dir + "/" + name
        let snapshot = path + ".db-partial"
        defer { try? FileManager.default.removeItem(atPath: snapshot) }
        let passphrase = try settings.passphraseFile.map { path throws(BackupError) in try BackupKey.passphrase(file: path) }
        let maker = try BackupMaker(masterKey: vault.masterKey, passphrase: passphrase, includesMasterKey: false, store: settings.storeKind, at: at)
        let progress = BackupProgress(logger: logger, name: name)
        try await store.snapshot(into: snapshot) { progress.report($0) }
        let sources = settings.sources
        let (counts, bytes) = try await Blocking.run {
            let counts = try SQLiteBackupFile.counts(path: snapshot)
            return (counts, try maker.write(to: path, database: snapshot, counts: counts, sources: sources))
        }
        return BackupInfo(name: name, bytes: bytes, createdAt: at, trigger: trigger, mode: maker.header.mode, counts: counts)
    }

    /// What a backup killed mid-way left (its snapshot, its unfinished file), an hour old or more.
    func removeLeftovers() {
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: settings.dir)) ?? [] where name.hasPrefix("custody-") && name.hasSuffix("partial") {
            let path = settings.dir + "/" + name
            guard let at = try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date, Date().timeIntervalSince(at) > 3600 else { continue }
            try? fm.removeItem(atPath: path)
            logger.notice("removed what an interrupted backup left", metadata: ["name": "\(name)"])
        }
    }

    /// Keeps the newest `keep` scheduled backups; backups made on request stay until removed by hand.
    func prune() {
        let scheduled = BackupInfo.list(settings.dir).filter { $0.trigger == .scheduled }.sorted { $0.createdAt > $1.createdAt }
        for old in scheduled.dropFirst(settings.keep) {
            do {
                try FileManager.default.removeItem(atPath: settings.dir + "/" + old.name)
                logger.notice("removed an old scheduled backup", metadata: ["name": "\(old.name)"])
            } catch {
                logger.warning("cannot remove an old scheduled backup", metadata: ["name": "\(old.name)"])
            }
        }
    }
}

/// One backup at a time.
final class BackupGate: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    func enter() -> Bool { lock.withLock { busy ? false : { busy = true; return true }() } }
    func leave() { lock.withLock { busy = false } }
}

final class AttemptBox: @unchecked Sendable {
    private let lock = NSLock()
    private var at: Date?
    var value: Date? { lock.withLock { at } }
    func set(_ d: Date) { lock.withLock { at = d } }
}

/// A log line at each quarter of a long snapshot.
final class BackupProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var lastQuarter = 0
    let logger: Logger
    let name: String

    init(logger: Logger, name: String) {
        self.logger = logger
        self.name = name
    }

    func report(_ fraction: Double) {
        let quarter = Int(fraction * 4)
        let due = lock.withLock { () -> Bool in
            guard quarter > lastQuarter, quarter < 4 else { return false }
            lastQuarter = quarter
            return true
        }
        if due { logger.notice("backup in progress", metadata: ["name": "\(name)", "done": "\(quarter * 25)%"]) }
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
