import ArgumentParser
import Foundation
import Logging
import Shared

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Master key maintenance.",
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-encrypt the vault under a new master key (stop the server first).",
            discussion: """
                The new key replaces the key file only after every value is re-encrypted in one transaction; an interruption \
                leaves a vault that opens with the old key or the new one. With --store-url (PostgreSQL), stop every node first \
                (the command refuses while a node has renewed its lease in the last two minutes), then copy the new key file \
                to every node before starting them: a node with the old key refuses to start.
                """)
        @Option(help: "Data directory.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "Master key file (default DATA/master.key).") var masterKeyFile: String?
        @Option(help: "The PostgreSQL store the nodes share (postgres://…); its password from CUSTODY_STORE_PASSWORD(_FILE).")
        var storeURL: String?

        func run() async throws {
            var cfg = ServerConfiguration()
            cfg.dataDir = dataDir
            cfg.masterKeyFile = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"]
            if let url = storeURL ?? ProcessInfo.processInfo.environment["CUSTODY_STORE_URL"] { return try await rotatePostgres(url, cfg) }
            guard FileManager.default.fileExists(atPath: cfg.databasePath) else { throw ValidationError("no vault in \(dataDir)") }
            let custody: Custody
            do { custody = try await Bootstrap.open(cfg, logger: Logger(label: "custody.key"), exclusive: true) } catch let e as VaultError {
                FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
                throw ExitCode(2)
            }
            guard let store = custody.sqlite else { throw ValidationError("key rotation runs on a SQLite vault") }
            let result = try KeyRotation(store: store, keyPath: cfg.resolvedMasterKeyFile).run(current: custody.vault)
            let rotated = Custody(config: cfg, store: store, vault: result.vault, logger: custody.logger)
            try await rotated.auditTrail.append(AuditEvent(user: "system", ip: "local", operation: "rotate_master_key",
                message: "re-encrypted \(result.rotated) values"))
            print("rotated the master key; re-encrypted \(result.rotated) values")
        }

        func rotatePostgres(_ url: String, _ cfg: ServerConfiguration) async throws {
            let location: PostgresLocation
            let password: Secret?
            do {
                location = try PostgresLocation.parse(url)
                password = try PostgresLocation.password(environment: ProcessInfo.processInfo.environment,
                    file: ProcessInfo.processInfo.environment["CUSTODY_STORE_PASSWORD_FILE"])
            } catch { throw ValidationError(error.description) }
            var logger = Logger(label: "custody.key")
            logger.logLevel = .warning
            // No deadline: re-sealing every secret is one long transaction.
            let db = try PGDatabase(location, password: password, maximumConnections: 2, deadline: nil, logger: logger)
            let rotated = try await withThrowingTaskGroup(of: Int?.self) { group in
                group.addTask {
                    await db.run()
                    return nil
                }
                defer { group.cancelAll() }
                let store = try await PGStore.open(db)
                let live = try await store.vaultRecords.liveNodes(since: Date().addingTimeInterval(-120))
                guard live.isEmpty else {
                    FileHandle.standardError.write(Data("custody: nodes \(live.joined(separator: ", ")) renewed their lease in the last two minutes; stop every node first\n".utf8))
                    throw ExitCode(2)
                }
                let vault: Vault
                do {
                    vault = try await VaultOpener.open(records: store.vaultRecords, auditKey: store.auditKey, keyPath: cfg.resolvedMasterKeyFile,
                        logger: logger)
                } catch let e as VaultError {
                    FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
                    throw ExitCode(2)
                }
                let result = try await KeyRotation.run(keyPath: cfg.resolvedMasterKeyFile, current: vault) { reseal in
                    try await store.vaultRecords.resealAll(reseal)
                }
                try await store.audit.append(AuditEvent(user: "system", ip: "local", operation: "rotate_master_key",
                    message: "re-encrypted \(result.rotated) values"))
                return result.rotated
            }
            print("rotated the master key; re-encrypted \(rotated) values; copy \(cfg.resolvedMasterKeyFile) to every node before starting them")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit trail.",
        subcommands: [Verify.self, AuditList.self, AuditExportCommand.self, AuditPurge.self, AuditArchives.self, AuditAlertsCommand.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the audit hash chain, or an archive a purge wrote; exit 1 naming the first bad record.",
            discussion: """
                The trail is walked from its start, or from the checkpoint a purge left. With --archive FILE the archive is                 checked on its own: its records follow each other and chain from where its header says, its digest matches,                 and, when the vault in --data-dir can be opened, every record's keyed digest is recomputed under the vault's audit key.
                """)
        @Option(help: "Data directory.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "Master key file (default DATA/master.key); the chain is keyed by a secret sealed in the vault.")
        var masterKeyFile: String?
        @Flag(help: "Upgrading from before 0.12: key the unkeyed head of an intact trail, once, before the server's first 0.12 start.")
        var keyLegacyHead = false
        @Option(help: "An archive written by `custody audit purge` to check instead of the trail.") var archive: String?
        @Flag(help: "With --archive and no vault to check it against: check only its links and digest (anyone could have made those).")
        var unkeyed = false

        func run() async throws {
            if let archive { return try verifyArchive(archive) }
            var cfg = ServerConfiguration()
            cfg.dataDir = dataDir
            cfg.masterKeyFile = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"]
            guard FileManager.default.fileExists(atPath: cfg.databasePath) else { throw ValidationError("no vault in \(dataDir)") }
            let store = try Store.open(path: cfg.databasePath)
            do { _ = try VaultOpener.open(store: store, keyPath: cfg.resolvedMasterKeyFile, logger: Logger(label: "custody.audit")) } catch let e as VaultError {
                FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
                throw ExitCode(2)
            }
            if keyLegacyHead {
                let keyed = try await store.write { db in try AuditHead.keyLegacy(key: try AuditLog.key(db), db) }
                print(keyed ? "the audit head is now keyed" : "the audit head is not an unkeyed head naming the last record; nothing changed")
            }
            let result = try await store.read { try AuditVerifier.verify($0) }
            if let bad = result.firstBad {
                print("audit chain BROKEN at record \(bad): \(result.problem ?? "")")
                throw ExitCode(1)
            }
            print("audit chain intact: \(result.checked) records")
        }

        func verifyArchive(_ file: String) throws {
            var cfg = ServerConfiguration()
            cfg.dataDir = dataDir
            cfg.masterKeyFile = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"]
            var key: Data? = nil
            if FileManager.default.fileExists(atPath: cfg.databasePath) {
                let store = try Store.open(path: cfg.databasePath, migrate: false)
                defer { try? store.db.close() }
                let masterKey = try MasterKey.load(path: cfg.resolvedMasterKeyFile)
                guard let canary = try store.vaultRecords.canary().sealed, VaultOpener.opens(canary, with: masterKey) else {
                    FileHandle.standardError.write(Data("custody: the master key does not open the vault in \(dataDir)\n".utf8))
                    throw ExitCode(2)
                }
                key = try store.vaultRecords.auditKey(open: VaultOpener.openAuditKey(Vault(masterKey: masterKey)), create: {
                    throw VaultError(.integrity, "the vault has no audit key")
                })
            } else if !unkeyed {
                FileHandle.standardError.write(Data("custody: no vault in \(dataDir) to check the archive against; give --data-dir, or --unkeyed for its links and digest only\n".utf8))
                throw ExitCode(2)
            }
            do {
                let v = try AuditArchive.verify(path: file, key: key)
                print("audit archive intact: records \(v.header.firstId)...\(v.header.lastId) (\(v.header.count)), older than \(Notice.stamp(v.header.before))"
                    + (v.keyed ? "; every record's keyed digest checked" : "; checked without the vault's audit key (no vault in \(dataDir)): links and digest only"))
            } catch let e as AuditArchiveError {
                print("audit archive BROKEN: \(e.description)")
                throw ExitCode(1)
            }
        }
    }
}
