import ArgumentParser
import Foundation
import Logging

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "key", abstract: "Master key maintenance.",
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Re-encrypt the vault under a new master key (stop the server first).",
            discussion: "The new key replaces the key file only after every value is re-encrypted in one transaction; an interruption leaves a vault that opens with the old key or the new one.")
        @Option(help: "Data directory.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "Master key file (default DATA/master.key).") var masterKeyFile: String?

        func run() async throws {
            var cfg = ServerConfiguration()
            cfg.dataDir = dataDir
            cfg.masterKeyFile = masterKeyFile ?? ProcessInfo.processInfo.environment["CUSTODY_MASTER_KEY_FILE"]
            guard FileManager.default.fileExists(atPath: cfg.databasePath) else { throw ValidationError("no vault in \(dataDir)") }
            let custody: Custody
            do { custody = try await Bootstrap.open(cfg, logger: Logger(label: "custody.key"), exclusive: true) } catch let e as VaultError {
                FileHandle.standardError.write(Data("custody: \(e.message)\n".utf8))
                throw ExitCode(2)
            }
            let result = try KeyRotation(store: custody.store, keyPath: cfg.resolvedMasterKeyFile).run(current: custody.vault)
            let rotated = Custody(config: cfg, store: custody.store, vault: result.vault, logger: custody.logger)
            try await rotated.auditTrail.append(AuditEvent(user: "system", ip: "local", operation: "rotate_master_key",
                message: "re-encrypted \(result.rotated) values"))
            print("rotated the master key; re-encrypted \(result.rotated) values")
        }
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The audit trail.",
        subcommands: [Verify.self, AuditList.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the audit hash chain; exit 1 naming the first bad record.")
        @Option(help: "Data directory.") var dataDir: String = ProcessInfo.processInfo.environment["CUSTODY_DATA_DIR"] ?? "./custody-data"
        @Option(help: "Master key file (default DATA/master.key); the chain is keyed by a secret sealed in the vault.")
        var masterKeyFile: String?
        @Flag(help: "Upgrading from before 0.12: key the unkeyed head of an intact trail, once, before the server's first 0.12 start.")
        var keyLegacyHead = false

        func run() async throws {
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
    }
}
