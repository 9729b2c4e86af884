import ArgumentParser
import Foundation
import Logging
import Shared

/// The backup commands on a PostgreSQL store: `create --store-url` reads the shared database at one
/// instant (REPEATABLE READ) into the backup's SQLite form; `restore --store-url` restores into the
/// data directory, checks everything, then copies the vault into an empty PostgreSQL database as
/// `custody store migrate` does and leaves no SQLite copy behind.
extension BackupCommand {
    struct StoreOptions: ParsableArguments {
        @Option(help: "postgres://user@host:port/db?sslmode=verify-full&sslrootcert=CA: a PostgreSQL store (the password never in the URL).")
        var storeURL: String?
        @Option(help: "File holding the PostgreSQL role's password (mode 0600); else CUSTODY_STORE_PASSWORD.") var storePasswordFile: String?

        /// Where the store is and its role's password, checked before anything is done.
        func location() throws -> (PostgresLocation, Secret?)? {
            guard let storeURL else {
                if storePasswordFile != nil { throw BackupError(.badInput, "--store-password-file needs --store-url") }
                return nil
            }
            let env = ProcessInfo.processInfo.environment
            let location: PostgresLocation
            let password: Secret?
            do {
                location = try PostgresLocation.parse(storeURL)
                password = try PostgresLocation.password(environment: env, file: storePasswordFile ?? env["CUSTODY_STORE_PASSWORD_FILE"])
            } catch {
                throw BackupError(.badInput, error.description)
            }
            return (location, password)
        }

        func open(_ logger: Logger) throws -> PGDatabase? {
            guard let (location, password) = try location() else { return nil }
            // No deadline: one long read copies the vault.
            return try PGDatabase(location, password: password, maximumConnections: 2, deadline: nil, logger: logger)
        }
    }

    /// Runs `body` with the database's connection loop going.
    static func with<T: Sendable>(_ db: PGDatabase, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await db.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// The PostgreSQL vault read into `snapshot` (a SQLite file), once the master key is shown to open
    /// it; then `seal` writes the backup, and what it returns is audited.
    static func snapshotPostgres(_ db: PGDatabase, masterKey: MasterKey, into snapshot: String,
        seal: @escaping @Sendable (BackupCounts) throws -> AuditEvent) async throws -> BackupCounts
    {
        try await with(db) {
            // Read as it is: a backup never migrates the nodes' database.
            let applied = try? await db.read { c in try await c.column(String.self, "SELECT id FROM custody_migrations") }
            guard let applied, !applied.isEmpty else { throw BackupError(.badInput, "no Custody vault in this PostgreSQL database") }
            guard Set(applied) == Set(PGMigrations.all.map(\.id)) else {
                throw BackupError(.badInput, "the database's schema is not this release's: back it up with the release its nodes run")
            }
            let store = PGStore(db: db, auditKey: AuditKeyBox())
            guard let canary = try await store.vaultRecords.canary().sealed else {
                throw BackupError(.badInput, "no Custody vault in this PostgreSQL database (it has no canary)")
            }
            guard VaultOpener.opens(canary, with: masterKey) else {
                throw BackupError(.wrongKey, "the master key does not open the vault in this PostgreSQL database")
            }
            let vault = Vault(masterKey: masterKey)
            // The backup's own audit record is chained under the vault's audit key.
            store.auditKey.set(try await store.vaultRecords.auditKey(open: VaultOpener.openAuditKey(vault), create: {
                throw BackupError(.verifyFailed, "the vault has no audit key")
            }))
            let shown = Box()
            try await PGBackupStore(db: db, log: store.auditLog, notices: PGNotices(vault: vault, now: { Date() }, queued: {}))
                .snapshot(into: snapshot) { f in
                    if Int(f * 4) > shown.bytes && f < 1 {
                        shown.bytes = Int(f * 4)
                        FileHandle.standardError.write(Data("custody: copying the database, \(shown.bytes * 25)%\n".utf8))
                    }
                }
            // The key again, in the snapshot: a key rotation between the check and the read would leave a backup no key opens.
            let copy = try Store.open(path: snapshot, migrate: false)
            let inCopy = try copy.vaultRecords.canary().sealed
            try copy.db.close()
            guard let inCopy, VaultOpener.opens(inCopy, with: masterKey) else {
                throw BackupError(.wrongKey, "the master key does not open the snapshot: was the key rotated meanwhile? Try again")
            }
            let counts = try SQLiteBackupFile.counts(path: snapshot)
            try await store.audit.append(try seal(counts))
            return counts
        }
    }

    /// The restored SQLite vault in `dataDir` copied into the empty database, verified, then removed.
    static func migrateRestored(dataDir: String, masterKeyFile: String?, store: StoreOptions) async throws {
        var args = ["--data-dir", dataDir, "--to", store.storeURL ?? ""]
        if let f = store.storePasswordFile { args += ["--store-password-file", f] }
        if let k = masterKeyFile { args += ["--master-key-file", k] }
        let migrate = try StoreCommand.Migrate.parse(args)
        try await migrate.run()
        for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: dataDir + "/custody.sqlite" + suffix) {
            do { try FileManager.default.removeItem(atPath: dataDir + "/custody.sqlite" + suffix) } catch {
                throw BackupError(.io, "the vault is in PostgreSQL, but its SQLite copy \(dataDir)/custody.sqlite\(suffix) could not be removed: "
                    + "remove it before starting a server on \(dataDir)")
            }
        }
    }
}

extension BackupCommand.Create {
    func createPostgres(_ cfg: ServerConfiguration, _ store: BackupCommand.StoreOptions) async throws {
        var logger = Logger(label: "custody.backup")
        logger.logLevel = .warning
        guard let db = try store.open(logger) else { return }
        let keyPath = keys.masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"] ?? cfg.resolvedMasterKeyFile
        let masterKey = try MasterKey.load(path: keyPath)
        let passphrase = try keys.passphrase()
        if includeMasterKey && passphrase == nil {
            throw BackupError(.badInput, "--include-master-key needs --passphrase-file: a backup sealed by the key it carries protects nothing")
        }
        let maker = try BackupMaker(masterKey: masterKey, passphrase: passphrase, includesMasterKey: includeMasterKey, store: "postgres", at: Date())
        let snapshot = out + ".db-partial"
        guard !FileManager.default.fileExists(atPath: out) else { throw BackupError(.io, "\(out) exists already") }
        guard !FileManager.default.fileExists(atPath: snapshot) else {
            throw BackupError(.io, "\(snapshot) exists: another backup is being written, or one was cut short (remove it)")
        }
        // The snapshot holds the vault's tables: gone on every way out, its journal files too.
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: snapshot + suffix) } }
        let name = (out as NSString).lastPathComponent
        var sources = BackupSources.of(cfg, configFile: config)
        if includeMasterKey { sources.masterKey = keyPath }
        let (out, carry, fixed) = (out, includeMasterKey, sources)
        let written = Box()
        let counts = try await BackupCommand.snapshotPostgres(db, masterKey: masterKey, into: snapshot) { c in
            written.bytes = try maker.write(to: out, database: snapshot, counts: c, sources: fixed)
            return AuditEvent(user: "system", ip: "local", operation: "create_backup",
                message: "backup \(name) of the PostgreSQL store by the command line: \(written.bytes) bytes, \(c.accounts) accounts, sealed with "
                    + maker.header.mode.rawValue + (carry ? ", carrying the master key" : ""))
        }
        let bytes = written.bytes
        print("backup of the PostgreSQL store written to \(out): \(bytes) bytes; resources: \(counts.resources), accounts: \(counts.accounts), "
            + "sealed passwords: \(counts.secrets), audit records: \(counts.auditRecords)" + (includeMasterKey ? "; it carries the master key" : ""))
    }
}

/// A number a closure sets and its caller reads after (the bytes written, the quarter shown).
private final class Box: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var bytes: Int {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
