import ArgumentParser
import Foundation
import Logging
import Shared

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "The vault's database.", subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite vault into an empty PostgreSQL database and verify it (stop the server first).",
            discussion: """
                Every row is copied unchanged in one transaction (ids, audit hashes, sealed values), then checked: each table's \
                rows counted against the SQLite vault, the audit chain walked, every sealed value opened with the master key. \
                Exit 0 only when all of that holds. The SQLite vault is left as it was. The password of the PostgreSQL role \
                comes from CUSTODY_STORE_PASSWORD or --store-password-file, never the URL.
                """)
        @Option(help: "Data directory of the SQLite vault.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "Master key file (default DATA/master.key).") var masterKeyFile: String?
        @Option(name: .customLong("to"), help: "postgres://user@host:port/db?sslmode=verify-full&sslrootcert=CA") var to: String
        @Option(help: "File holding the PostgreSQL role's password (mode 0600).") var storePasswordFile: String?

        func run() async throws {
            var cfg = ServerConfiguration()
            cfg.dataDir = dataDir
            cfg.masterKeyFile = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"]
            guard FileManager.default.fileExists(atPath: cfg.databasePath) else { throw ValidationError("no vault in \(dataDir)") }
            let location: PostgresLocation
            let password: Secret?
            do {
                location = try PostgresLocation.parse(to)
                password = try PostgresLocation.password(environment: ProcessInfo.processInfo.environment,
                    file: storePasswordFile ?? ProcessInfo.processInfo.environment["CUSTODY_STORE_PASSWORD_FILE"])
            } catch { throw ValidationError(error.description) }
            var logger = Logger(label: "custody.store")
            logger.logLevel = .warning
            let sqlite: Store
            let vault: Vault
            do {
                try lockDataDir(cfg.dataDir)
                sqlite = try Store.open(path: cfg.databasePath)
                vault = try VaultOpener.open(store: sqlite, keyPath: cfg.resolvedMasterKeyFile, logger: logger)
            } catch let e as VaultError {
                FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
                throw ExitCode(2)
            }
            // No deadline: one long transaction copies the vault.
            let db = try PGDatabase(location, password: password, maximumConnections: 2, deadline: nil, logger: logger)
            let report = try await withThrowingTaskGroup(of: PGImportReport?.self) { group in
                group.addTask {
                    await db.run()
                    return nil
                }
                defer { group.cancelAll() }
                let importer = PGImport(source: sqlite.db, target: db)
                let bar = ProgressBar()
                do {
                    try await importer.copy(progress: bar.show)
                } catch let e as PGImport.Failure {
                    bar.end()
                    FileHandle.standardError.write(Data("custody: \(e.description)\n".utf8))
                    throw ExitCode(2)
                }
                bar.end()
                return try await importer.verify(vault: vault, auditKey: AuditKeyBox())
            }
            let total = report.rows.values.reduce(0, +)
            print("copied \(total) rows of \(report.rows.count) tables into \(location)")
            print("audit chain: \(report.audit.ok ? "verified, \(report.audit.checked) records" : "BROKEN: \(report.audit.problem ?? "")")")
            print("sealed values: \(report.sealedChecked - report.unreadable.count) of \(report.sealedChecked) open with the master key")
            for t in report.mismatched { print("row count differs: \(t)") }
            for u in report.unreadable.prefix(20) { print("does not open: \(u)") }
            guard report.ok else { throw ExitCode(1) }
            print("verified: start the nodes with --store-url \(location) and the same master key")
        }
    }
}

/// One line on standard error, rewritten in place: the table and how far its copy got.
final class ProgressBar: @unchecked Sendable {
    private let lock = NSLock()
    private var last = ""

    func show(_ table: String, _ done: Int, _ total: Int) {
        let width = 30
        let filled = total == 0 ? width : done * width / total
        let line = "\r\(table.padding(toLength: 22, withPad: " ", startingAt: 0)) [\(String(repeating: "#", count: filled))"
            + "\(String(repeating: "-", count: width - filled))] \(done)/\(total)"
        lock.withLock {
            guard line != last else { return }
            last = line
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func end() { FileHandle.standardError.write(Data("\n".utf8)) }
}
