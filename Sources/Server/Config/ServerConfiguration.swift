import Foundation

/// Everything the server can be told, with defaults. Flags beat env, env beats the config file.
struct ServerConfiguration: Sendable, Codable, Equatable {
    var dataDir: String = "./custody-data"
    var host: String = "0.0.0.0"
    var port: Int = 7272
    /// Default: `<dataDir>/master.key`.
    var masterKeyFile: String? = nil
    /// A PostgreSQL database shared by several nodes (`postgres://user@host:port/db?sslmode=…`);
    /// nil: SQLite in the data directory. Its password: `CUSTODY_STORE_PASSWORD` or `storePasswordFile`.
    var storeURL: String? = nil
    var storePasswordFile: String? = nil
    /// This server's name among the nodes sharing a PostgreSQL store; stable across its restarts,
    /// unique among the nodes. Default: the machine's host name and `port`.
    var nodeName: String? = nil
    /// How long a node's hold on its running tasks lasts without a heartbeat (renewed three times
    /// per lease); after it, another node reconciles them.
    var nodeLeaseSeconds: Double = 30
    /// Admin-supplied certificate and key (PEM); default: a self-signed pair in `<dataDir>/tls/`.
    var tlsCertificateFile: String? = nil
    var tlsKeyFile: String? = nil
    /// The address agents and bundles use (`https://vault.example.com:7272`); the self-signed
    /// certificate covers its host. Default: this machine's host name and `port`.
    var publicURL: String? = nil
    var passwordHistoryDepth: Int = 10
    var lockoutThreshold: Int = 5
    var lockoutWindowMinutes: Int = 15
    /// Failed logins in the window from one address (any names), and for one name from all
    /// addresses together, before further attempts are refused (429) without a bcrypt.
    var loginAddressLimit: Int = 20
    var loginNameLimit: Int = 50
    var sessionHours: Int = 12
    var maxBodyBytes: Int = 1 << 20
    /// A connection that sends nothing for this long (before, between or in the middle of
    /// requests) is closed; a request being answered (a long poll) is not idle.
    var httpIdleSeconds: Int = 30
    var bcryptCost: Int = 12
    var logLevel: String = "info"
    /// Resets and verifies running at once, and at once against one host.
    var resetWorkers: Int = 8
    /// Agent tasks waiting on their agents at once; they hold no reset worker while they wait.
    var agentTaskLimit: Int = 1000
    var resetPerHostLimit: Int = 4
    /// Seconds a privileged session (login and su/sudo) is kept for the next change of the same
    /// host's accounts; 0 opens one per change.
    var resetSessionIdleSeconds: Double = 5
    /// Attempts for a retryable failure (unreachable, password rejected when generated).
    var resetMaxAttempts: Int = 3
    /// First retry delay in seconds; doubles each time.
    var resetRetrySeconds: Double = 10
    /// Reconciles with back-off before the account is `unknown` and an alert goes out.
    var reconcileRetries: Int = 6
    /// Then reconcile goes on at this pace.
    var reconcileSlowSeconds: Double = 3600
    /// Listener runs at once; default timeout of a listener (each may set its own); output kept.
    var listenerWorkers: Int = 4
    var listenerTimeoutSeconds: Double = 60
    var listenerOutputBytes: Int = 64 * 1024
    /// Where listener programs are written and run (must allow exec). Default: `<dataDir>/listeners`.
    var listenerWorkDir: String? = nil
    /// Extra device dialect files (`*.yaml`), added to the built-in ones; nil: built-ins only.
    var dialectsDir: String? = nil
    /// Console sessions idle longer than this sign in again (PMP's default is 30 minutes).
    var webIdleMinutes: Int = 30
    /// Seconds a revealed password stays on screen in the console.
    var webRevealSeconds: Int = 10
    /// Delivery attempts of one notification before it is given up (about 2 hours at the default).
    var notificationAttempts: Int = 8
    /// Agents: the poll interval they are given (offline after 3 missed), the longest a poll may wait,
    /// how long a lease lasts unrenewed, how long a job waits to be taken, and enrollment token lifetime.
    var agentScheduleInterval: Double = 60
    var agentLongPollSeconds: Int = 25
    /// The most agent long polls one server holds at once; past it a poll gets 503 and Retry-After.
    var agentMaxLongPolls: Int = 20_000
    var agentLeaseSeconds: Double = 60
    /// How long an offered job waits for the agent to take it before it goes back to the queue.
    var agentOfferSeconds: Double = 10
    var agentQueueSeconds: Double = 600
    var enrollmentTokenDays: Double = 7
    /// Backups the server makes (`POST /backups`, and on `backupSchedule`): where they go (default
    /// `<dataDir>/backups`), when (`daily HH:MM` in the server's time zone, or `off`), how many
    /// scheduled ones are kept, and a passphrase file to seal them with instead of the master key.
    var backupDir: String? = nil
    var backupSchedule: String = "daily 02:00"
    var backupKeep: Int = 14
    var backupPassphraseFile: String? = nil
    /// Audit records older than this many days are purged daily into `auditArchiveDir` (default
    /// `<dataDir>/audit-archive`); 0: never (the default).
    var auditRetentionDays: Int = 0
    var auditArchiveDir: String? = nil
    /// The config file the server was started with, carried in its backups (not a config key).
    var configFile: String? = nil

    var resolvedMasterKeyFile: String { masterKeyFile ?? dataDir + "/master.key" }
    var resolvedNodeName: String { nodeName ?? "\(ProcessInfo.processInfo.hostName):\(port)" }
    var databasePath: String { dataDir + "/custody.sqlite" }
    var tlsDir: String { dataDir + "/tls" }
    var resolvedListenerWorkDir: String { listenerWorkDir ?? dataDir + "/listeners" }
    var resolvedBackupDir: String { backupDir ?? dataDir + "/backups" }
    var resolvedAuditArchiveDir: String { auditArchiveDir ?? dataDir + "/audit-archive" }

    init() {}

    /// The host of an `https://` URL, nil when it is not one.
    static func publicHost(_ url: String) -> String? {
        guard url.hasPrefix("https://"), !url.contains(where: \.isWhitespace), let c = URLComponents(string: url),
            let host = c.host, !host.isEmpty, c.user == nil, c.query == nil
        else { return nil }
        return host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }

    /// Where agents reach this server: `publicURL`, else this machine's name and port.
    var agentURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        var buf = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buf, 255) == 0 ? String(cString: buf) : "localhost"
        return "https://\(name):\(port)"
    }

    /// Problems that stop the server from starting.
    func problems() -> [String] {
        var out: [String] = []
        if !(0...65535).contains(port) { out.append("port must be between 0 (any free port) and 65535") }
        if passwordHistoryDepth < 0 || passwordHistoryDepth > 1000 { out.append("passwordHistoryDepth must be 0...1000") }
        if lockoutThreshold < 1 { out.append("lockoutThreshold must be at least 1") }
        if let u = publicURL, Self.publicHost(u) == nil {
            out.append("publicURL must be an https:// URL with a host name, e.g. https://vault.example.com:7272")
        }
        if let n = nodeName, n.isEmpty || n.count > 200 || n.contains(where: { $0.isWhitespace || $0.isNewline }) {
            out.append("nodeName must be 1 to 200 characters without spaces")
        }
        if !(2...600).contains(nodeLeaseSeconds) { out.append("nodeLeaseSeconds must be 2...600") }
        if let u = storeURL, !u.isEmpty {
            do { _ = try PostgresLocation.parse(u) } catch { out.append(error.description) }
        }
        if lockoutWindowMinutes < 1 { out.append("lockoutWindowMinutes must be at least 1") }
        if loginAddressLimit < lockoutThreshold || loginNameLimit < lockoutThreshold {
            out.append("loginAddressLimit and loginNameLimit must be at least lockoutThreshold")
        }
        if sessionHours < 1 { out.append("sessionHours must be at least 1") }
        if maxBodyBytes < 1024 { out.append("maxBodyBytes must be at least 1024") }
        if !(4...31).contains(bcryptCost) { out.append("bcryptCost must be 4...31") }
        if resetWorkers < 1 || resetPerHostLimit < 1 || resetMaxAttempts < 1 { out.append("reset limits must be at least 1") }
        if !(0...300).contains(resetSessionIdleSeconds) { out.append("resetSessionIdleSeconds must be 0...300") }
        if !(1...1440).contains(webIdleMinutes) { out.append("webIdleMinutes must be 1...1440") }
        if !(1...300).contains(webRevealSeconds) { out.append("webRevealSeconds must be 1...300") }
        if !(1...3600).contains(httpIdleSeconds) { out.append("httpIdleSeconds must be 1...3600") }
        if listenerWorkers < 1 || !(1...3600).contains(listenerTimeoutSeconds) || listenerOutputBytes < 1024 {
            out.append("listenerWorkers must be at least 1, listenerTimeoutSeconds 1...3600, listenerOutputBytes at least 1024")
        }
        if agentScheduleInterval < 1 || !(0...300).contains(agentLongPollSeconds) || agentMaxLongPolls < 1 || agentLeaseSeconds < 1 || agentQueueSeconds < 1
            || agentOfferSeconds < 0.1
            || !(0.001...365).contains(enrollmentTokenDays)
        {
            out.append("agentScheduleInterval, agentLeaseSeconds and agentQueueSeconds must be at least 1, agentLongPollSeconds 0...300, agentMaxLongPolls at least 1, enrollmentTokenDays up to 365")
        }
        if !(1...100).contains(notificationAttempts) { out.append("notificationAttempts must be 1...100") }
        if resetRetrySeconds < 0 { out.append("resetRetrySeconds must not be negative") }
        if !(1...100).contains(reconcileRetries) || !(1...86400).contains(reconcileSlowSeconds) {
            out.append("reconcileRetries must be 1...100 and reconcileSlowSeconds 1...86400")
        }
        if BackupSchedule.parse(backupSchedule) == nil { out.append("backupSchedule must be 'daily HH:MM' (24 h) or 'off'") }
        if !(1...1000).contains(backupKeep) { out.append("backupKeep must be 1...1000") }
        if !(0...36500).contains(auditRetentionDays) { out.append("auditRetentionDays must be 0 (keep everything) ... 36500") }
        if agentTaskLimit < 1 { out.append("agentTaskLimit must be at least 1") }
        if (tlsCertificateFile == nil) != (tlsKeyFile == nil) { out.append("tlsCertificateFile and tlsKeyFile go together") }
        return out
    }
}
