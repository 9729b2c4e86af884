import ArgumentParser
import Foundation
import ResetPlugins
import Hummingbird
import HummingbirdTLS
import Logging
import Metrics
import Prometheus
import PostgresNIO
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the Custody server (HTTPS, port 7272 by default).",
        discussion: """
            First start on an empty data directory creates the master key (0600), a self-signed certificate in
            DATA/tls/, and the user `admin` with a random password printed once and written to
            DATA/initial-admin-password. Environment: CUSTODY_DATA_DIR, CUSTODY_HOST, CUSTODY_PORT,
            CUSTODY_MASTER_KEY_FILE, CUSTODY_CONFIG (a YAML file with any ServerConfiguration key),
            CUSTODY_STORE_URL, CUSTODY_STORE_PASSWORD, CUSTODY_STORE_PASSWORD_FILE, CUSTODY_NODE_NAME.
            """)

    @Option(help: "Data directory (SQLite vault, TLS, initial password).") var dataDir: String?
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on.") var port: Int?
    @Option(help: "Master key file (default DATA/master.key); must be mode 0600.") var masterKeyFile: String?
    @Option(help: ArgumentHelp("A PostgreSQL database shared by several nodes: postgres://user@host:port/db?sslmode=verify-full&sslrootcert=CA.",
        discussion: "The password comes from CUSTODY_STORE_PASSWORD or storePasswordFile, never the URL. Default: SQLite in the data directory."))
    var storeURL: String?
    @Option(help: "YAML config file.") var config: String?
    @Option(help: "PEM certificate to serve instead of the generated one.") var tlsCert: String?
    @Option(help: "PEM private key for --tls-cert.") var tlsKey: String?
    @Option(help: "The https:// URL agents and bundles use to reach this server; the generated certificate covers its host.")
    var publicURL: String?

    func run() async throws {
        umask(0o077)  // the database, keys and certificates are for this user only
        signal(SIGPIPE, SIG_IGN)  // a target or client that hangs up is an error on that socket, never the server's end
        var cfg: ServerConfiguration
        do { cfg = try ConfigLoader.load(file: config, environment: ProcessInfo.processInfo.environment) } catch {
            throw ValidationError("\(error)")
        }
        if let v = dataDir { cfg.dataDir = v }
        if let v = host { cfg.host = v }
        if let v = port { cfg.port = v }
        if let v = masterKeyFile { cfg.masterKeyFile = v }
        if let v = storeURL { cfg.storeURL = v }
        if let v = tlsCert { cfg.tlsCertificateFile = v }
        if let v = tlsKey { cfg.tlsKeyFile = v }
        if let v = publicURL { cfg.publicURL = v }
        if let problem = cfg.problems().first { throw ValidationError(problem) }
        var logger = Logger(label: "custody")
        logger.logLevel = Logger.Level(rawValue: cfg.logLevel) ?? .info
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        switch try cfg.storeLocation() {
        case .sqlite:
            let custody = try await Self.opened { try await Bootstrap.open(cfg, logger: logger, exclusive: true).withDialects(cfg.dialectsDir) }
            try await serve(custody, cfg, logger: logger, registry: registry, services: [])
        case .postgres(let location):
            let password = try PostgresLocation.password(environment: ProcessInfo.processInfo.environment, file: cfg.storePasswordFile)
            let db = try PGDatabase(location, password: password, logger: logger)
            let node = PGNode(id: cfg.resolvedNodeName, version: CustodyRelease.version, leaseSeconds: cfg.nodeLeaseSeconds)
            logger.info("store", metadata: ["postgres": "\(location)", "node": "\(node.id)"])
            // The data directory before the pool's threads start: Foundation's file calls racing the
            // pool's first connections have crashed the runtime here (a type metadata lookup).
            try FileManager.default.createDirectory(atPath: cfg.dataDir, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try lockDataDir(cfg.dataDir)
            // The pool runs beside the server and stops with it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await db.run() }
                defer { group.cancelAll() }
                let custody = try await Self.opened {
                    try await Bootstrap.openPostgres(cfg, db: db, node: node, logger: logger).withDialects(cfg.dialectsDir)
                }
                try await serve(custody, cfg, logger: logger, registry: registry,
                    services: [PGNotifications(db: db, custody: custody), NodeHeartbeat(custody: custody, node: node)])
            }
        }
    }

    /// Start-up errors an administrator fixes (the key, the dialects, the database) end with a message and exit 2.
    static func opened(_ open: () async throws -> Custody) async throws -> Custody {
        do { return try await open() } catch let error as VaultError {
            FileHandle.standardError.write(Data("custody: \(error.message)\n".utf8))
            throw ExitCode(2)
        } catch let error as DialectError {
            FileHandle.standardError.write(Data("custody: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as PGError {
            FileHandle.standardError.write(Data("custody: the PostgreSQL store refused: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as StoreUnavailable {
            FileHandle.standardError.write(Data("custody: cannot use the PostgreSQL store: \(error)\n".utf8))
            throw ExitCode(2)
        } catch let error as PSQLError {
            FileHandle.standardError.write(Data("custody: cannot use the PostgreSQL store: \(PGNotifications.describe(error)) (\(error.code))\n".utf8))
            throw ExitCode(2)
        }
    }

    func serve(_ custody: Custody, _ cfg: ServerConfiguration, logger: Logger, registry: PrometheusCollectorRegistry, services: [any Service])
        async throws
    {
        let path = cfg.dataDir + "/initial-admin-password"
        let created = try await custody.identity.bootstrapAdmin { password in
            try? FileManager.default.removeItem(atPath: path)
            try TLSMaterial.writeFile(path, password.reveal() + "\n", mode: 0o600)
        }
        if let password = created {
            print("initial admin password: \(password.reveal())")
            print("(also in \(path); you must change it at first login)")
        }
        let tls = try TLSMaterial.configuration(cfg, hostNames: TLSMaterial.hostNames(bindHost: cfg.host, publicURL: cfg.publicURL))
        if let host = cfg.publicURL.flatMap(ServerConfiguration.publicHost),
            !TLSMaterial.certificate(cfg.tlsCertificateFile ?? cfg.tlsDir + "/server.crt", covers: host)
        {
            logger.warning("the TLS certificate does not cover publicURL's host; agents will refuse it",
                metadata: ["host": "\(host)", "fix": "serve a certificate for it, or move tls/server.crt and server.key aside to have one generated (enrolled agents then need the new one)"])
        }
        let (router, _) = CustodyApp.router(custody, metrics: registry)
        let shownHost = cfg.host == "0.0.0.0" ? "localhost" : cfg.host
        let configuredPort = cfg.port
        let app = Application(
            router: router,
            server: try .tls(.http1(configuration: .init(idleTimeout: .seconds(Int64(cfg.httpIdleSeconds)))), tlsConfiguration: tls),
            configuration: .init(address: .hostname(cfg.host, port: cfg.port), serverName: nil),
            services: [TaskEngine(custody: custody), ListenerRunner(custody: custody), Scheduler(custody: custody), NotificationSender(custody: custody),
                AccessDeadlines(custody: custody)]
                + services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuredPort
                print("listening on https://\(shownHost):\(port)")
                fflush(nil)
            },
            logger: logger)
        try await app.runService()
    }
}

extension Custody {
    /// The built-in device dialects and those of `directory`. A bad file there stops the server;
    /// missing built-ins (a binary deployed without its resource bundle) are logged and leave
    /// network resets failing with a clear error.
    func withDialects(_ directory: String?) throws(DialectError) -> Custody {
        var plugins = self.plugins
        do {
            plugins.dialects = try DialectLibrary.load(extraDirectory: directory)
        } catch where error.dialect == "*" && directory == nil {
            logger.error("no device dialects", metadata: ["reason": "\(error.message)"])
            return self
        }
        logger.info("device dialects", metadata: ["loaded": "\(plugins.dialects.dialects.keys.sorted().joined(separator: ","))"])
        return Custody(config: config, backend: backend, vault: vault, logger: logger, now: now, plugins: plugins, taskSignal: taskSignal,
            faults: faults)
    }
}

/// Opens the data directory: config checks, store, seed data, vault.
enum Bootstrap {
    static func open(_ cfg: ServerConfiguration, logger: Logger, exclusive: Bool = false) async throws -> Custody {
        try FileManager.default.createDirectory(atPath: cfg.dataDir, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        if exclusive { try lockDataDir(cfg.dataDir) }
        let store = try Store.open(path: cfg.databasePath)
        try await store.write { db in try Settings.seed(db) }
        let vault = try VaultOpener.open(store: store, keyPath: cfg.resolvedMasterKeyFile, logger: logger)
        return Custody(config: cfg, store: store, vault: vault, logger: logger)
    }

    /// A node on a PostgreSQL store: its own data directory (TLS material, the key file by
    /// default, the initial password), the shared database brought up to date and seeded, the vault
    /// opened with the master key every node shares.
    /// The data directory exists and is locked already (see `ServeCommand.run`).
    static func openPostgres(_ cfg: ServerConfiguration, db: PGDatabase, node: PGNode, logger: Logger) async throws -> Custody {
        let store = try await PGStore.open(db)
        let vault = try await VaultOpener.open(records: store.vaultRecords, auditKey: store.auditKey, keyPath: cfg.resolvedMasterKeyFile,
            logger: logger)
        db.keyGuard.expect(vault.masterKey.id)
        return Custody(config: cfg, backend: .postgres(store, node), vault: vault, logger: logger)
    }
}

/// One process at a time owns a data directory (the server, or a key rotation). The lock is held
/// until the process exits.
func lockDataDir(_ dir: String) throws {
    let fd = open(dir + "/custody.lock", O_CREAT | O_RDWR, 0o600)
    guard fd >= 0 else { throw VaultError(.keyUnreadable, "cannot create \(dir)/custody.lock") }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
        close(fd)
        throw VaultError(.rotationFailed, "another custody process (a server or a key rotation) is using \(dir); stop it first")
    }
}
