import ArgumentParser
import Foundation
import GRDB
import Logging
import Shared

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Make, check and restore backups of a vault.",
        discussion: """
            A backup is one file holding the database, the TLS certificate and key, and the config file, sealed with \
            AES-256-GCM under a key derived from the master key, or from a passphrase for copies kept apart from the key. \
            It never holds a password in clear, nor the master key unless --include-master-key (which needs a passphrase). \
            A running server makes its own with `POST /api/v1/backups` and on `backupSchedule`.
            """,
        subcommands: [Create.self, Verify.self, Restore.self, Now.self, List.self])

    struct KeyOptions: ParsableArguments {
        @Option(help: "Master key file (default DATA/master.key, or CUSTODY_MASTER_KEY_FILE).") var masterKeyFile: String?
        @Option(help: "A file whose first line is the passphrase (at least 12 characters; mode 0600).") var passphraseFile: String?

        func masterKey(dataDir: String?, required: Bool) throws -> MasterKey? {
            let path = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"] ?? dataDir.map { $0 + "/master.key" }
            guard let path, required || masterKeyFile != nil || FileManager.default.fileExists(atPath: path) else { return nil }
            return try MasterKey.load(path: path)
        }

        func passphrase() throws -> Secret? { try passphraseFile.map { f throws(BackupError) in try BackupKey.passphrase(file: f) } }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Back up a vault, while its server runs or not.",
            discussion: """
                SQLite's online backup copies the database at one instant; writers go on meanwhile. With --store-url, the \
                PostgreSQL store is read at one instant (REPEATABLE READ) into the same form. The backup is recorded in the audit trail.
                """)
        @Option(help: "Data directory.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "The backup file to write (refused if it exists).") var out: String
        @OptionGroup var keys: KeyOptions
        @Flag(help: "Carry the master key in the backup (requires --passphrase-file).") var includeMasterKey = false
        @Option(help: "The server's YAML config file, to carry in the backup.") var config: String?
        @OptionGroup var postgres: StoreOptions

        func run() async throws {
            try await BackupCommand.reporting {
                umask(0o077)  // the snapshot and the backup are for this user only
                var cfg = ServerConfiguration()
                if let config { cfg = try ConfigLoader.load(file: config, environment: [:]) }
                cfg.dataDir = dataDir
                var pg = postgres
                if pg.storeURL == nil, let url = cfg.storeURL, !url.isEmpty {
                    pg.storeURL = url
                    pg.storePasswordFile = pg.storePasswordFile ?? cfg.storePasswordFile
                }
                if pg.storeURL != nil { return try await createPostgres(cfg, pg) }
                guard FileManager.default.fileExists(atPath: cfg.databasePath) else { throw ValidationError("no vault in \(dataDir)") }
                let keyPath = keys.masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"] ?? cfg.resolvedMasterKeyFile
                let masterKey = try MasterKey.load(path: keyPath)
                let passphrase = try keys.passphrase()
                if includeMasterKey && passphrase == nil {
                    throw BackupError(.badInput, "--include-master-key needs --passphrase-file: a backup sealed by the key it carries protects nothing")
                }
                let store = try Store.open(path: cfg.databasePath, migrate: false)
                defer { try? store.db.close() }
                guard let canary = try store.vaultRecords.canary().sealed, VaultOpener.opens(canary, with: masterKey) else {
                    throw BackupError(.wrongKey, "the master key in \(keyPath) does not open the vault in \(dataDir)")
                }
                let maker = try BackupMaker(masterKey: masterKey, passphrase: passphrase, includesMasterKey: includeMasterKey, store: "sqlite", at: Date())
                let snapshot = out + ".db-partial"
                defer { try? FileManager.default.removeItem(atPath: snapshot) }
                var shown = 0
                try SQLiteBackupStore.copy(store.db, to: snapshot) { f in
                    if Int(f * 4) > shown && f < 1 {
                        shown = Int(f * 4)
                        FileHandle.standardError.write(Data("custody: copying the database, \(shown * 25)%\n".utf8))
                    }
                }
                let counts = try SQLiteBackupFile.counts(path: snapshot)
                var sources = BackupSources.of(cfg, configFile: config)
                if includeMasterKey { sources.masterKey = keyPath }
                let bytes = try maker.write(to: out, database: snapshot, counts: counts, sources: sources)
                store.auditKey.set(try store.vaultRecords.auditKey(open: VaultOpener.openAuditKey(Vault(masterKey: masterKey)), create: {
                    throw BackupError(.verifyFailed, "the vault has no audit key")
                }))
                try await store.audit.append(AuditEvent(user: "system", ip: "local", operation: "create_backup",
                    message: "backup \((out as NSString).lastPathComponent) by the command line: \(bytes) bytes, \(counts.accounts) accounts, sealed with \(maker.header.mode.rawValue)"
                        + (includeMasterKey ? ", carrying the master key" : "")))
                print("backup written to \(out): \(bytes) bytes; resources: \(counts.resources), accounts: \(counts.accounts), "
                    + "sealed passwords: \(counts.secrets), audit records: \(counts.auditRecords); sealed with \(maker.header.mode == .passphrase ? "the passphrase" : "the master key (id \(maker.header.keyId ?? ""))")"
                    + (includeMasterKey ? "; it carries the master key" : ""))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a backup without restoring it; exit 1 if it is damaged or does not verify.",
            discussion: "With the master key (given, in DATA, or carried) every sealed value is opened and the audit chain walked, as a restore does.")
        @Argument(help: "The backup file.") var file: String
        @Option(help: "Data directory whose master.key to use when --master-key-file is not given.") var dataDir: String?
        @OptionGroup var keys: KeyOptions

        func run() async throws {
            try await BackupCommand.reporting {
                umask(0o077)
                let r = try BackupFiles.verify(file, masterKey: try keys.masterKey(dataDir: dataDir, required: false), passphrase: try keys.passphrase())
                print("backup \(file) is intact: made \(Notice.stamp(r.manifest.createdAt)) by \(r.manifest.serverVersion), holds \(r.entries.joined(separator: ", "))")
                if let check = r.check {
                    print("vault verified: accounts: \(check.counts.accounts), sealed values that open: \(check.sealedChecked), audit chain intact (\(check.audit.checked) records)")
                } else {
                    print("the vault itself was not checked: no master key was given and the backup does not carry one")
                }
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a backup into a new or empty data directory.",
            discussion: """
                Every frame is authenticated, every sealed value opened and the audit chain walked before the files take their \
                places; on any failure the directory is left empty. Then start the server on it with the same master key. \
                A restored config file (custody.yaml) may name the old paths: check it before use. With --store-url the \
                checked vault is then copied into an empty PostgreSQL database and verified, as `custody store migrate` does, and \
                its SQLite copy removed.
                """)
        @Argument(help: "The backup file.") var file: String
        @Option(help: "The new data directory (must be empty or not exist).") var dataDir: String
        @OptionGroup var keys: KeyOptions
        @OptionGroup var postgres: StoreOptions

        func run() async throws {
            try await BackupCommand.reporting {
                umask(0o077)
                let target = try postgres.location()?.0  // a bad URL or password is refused before anything is restored
                let r = try BackupFiles.restore(file, into: dataDir, masterKey: try keys.masterKey(dataDir: nil, required: false),
                    passphrase: try keys.passphrase())
                if let target {
                    print("restored \(file) into \(dataDir) and checked it; copying the vault into \(target) (if this fails, the checked "
                        + "SQLite vault stays in \(dataDir), and the PostgreSQL copy is rolled back or must be dropped before trying again)")
                    try await BackupCommand.migrateRestored(dataDir: dataDir, masterKeyFile: keys.masterKeyFile, store: postgres)
                    return print("the vault is in PostgreSQL; \(dataDir) keeps the other files (TLS, config\(r.entries.contains(BackupEntry.masterKey.rawValue) ? ", master key" : ""))")
                }
                let c = r.check?.counts ?? r.manifest.counts
                print("restored \(file) into \(dataDir): resources: \(c.resources), accounts: \(c.accounts), sealed values that open: \(r.check?.sealedChecked ?? 0), "
                    + "audit chain intact (\(r.check?.audit.checked ?? 0) records); files: \(r.entries.filter { $0 != BackupEntry.manifest.rawValue }.joined(separator: ", "))")
                if !r.entries.contains(BackupEntry.masterKey.rawValue) {
                    print("start the server with the master key this backup was checked with (--master-key-file, or copy it to \(dataDir)/master.key)")
                }
            }
        }
    }

    /// Backup and key errors end with their message and exit 1 (2 for bad options).
    static func reporting(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let e as BackupError {
            FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
            throw ExitCode(e.code == .badInput ? 2 : 1)
        } catch let e as VaultError {
            FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
            throw ExitCode(2)
        }
    }
}
