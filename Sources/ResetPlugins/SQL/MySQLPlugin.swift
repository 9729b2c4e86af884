import Foundation
import Shared

/// MySQL and MariaDB accounts through libmariadb: `ALTER USER 'user'@'host' IDENTIFIED BY ...`,
/// every literal escaped by the client library. Verify connects as the account.
///
/// Reset config options: `hostPart` (the account's host, default `%`), `database`, `tls` (required,
/// the default, or none; `verify` is the same as required), `tlsVerify` (false skips the certificate
/// check), `caFile`. The login account, when set, is the admin that runs the change;
/// without it the account changes its own password.
public struct MySQLPlugin: ResetPlugin {
    public let descriptor = PluginDescriptor(id: "mysql", resourceTypes: ["MySQL Server"], capabilities: [.reset, .verify, .selfChange],
        constraints: PasswordConstraints(maxLength: 80))

    public init() {}

    public func defaultPort(_ settings: ResetSettings) -> Int? { 3306 }

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        let c = try await connect(job, as: job.loginName, job.currentPassword)
        await c.close()
    }

    /// Never log in with an empty password (an account without one would "verify").
    static func password(_ secret: Secret?, of user: String) throws(ResetFailure) -> Secret {
        guard let secret, !secret.isEmpty else { throw ResetFailure(.unsupported, "no stored password for \(user) to log in with") }
        return secret
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.protocolError, "no new password") }
        let admin = job.loginAccount
        let c = try await connect(job, as: admin?.loginName ?? job.loginName, admin?.password ?? job.currentPassword)
        let host = job.settings.options["hostPart"] ?? "%"
        // An admin alters the account. The account itself: MariaDB lets it SET PASSWORD = PASSWORD(...);
        // MySQL 8 dropped PASSWORD() and lets it ALTER USER CURRENT_USER().
        let literal = await c.literal(new.reveal())
        let sql: String
        if admin != nil {
            sql = "ALTER USER \(await c.literal(job.loginName))@\(await c.literal(host)) IDENTIFIED BY \(literal)"
        } else if await c.isMariaDB() {
            sql = "SET PASSWORD = PASSWORD(\(literal))"
        } else {
            sql = "ALTER USER CURRENT_USER() IDENTIFIED BY \(literal)"
        }
        let step = admin == nil ? "SET PASSWORD as '\(job.loginName)'" : "ALTER USER '\(job.loginName)'@'\(host)'"
        var outcome: Result<Void, MySQLConnection.Failure>
        do throws(ResetFailure) { try job.exposure?.willSend() } catch {
            await c.close()
            throw error
        }
        job.exposure?.markReached()
        do throws(MySQLConnection.Failure) { outcome = .success(try await c.execute(sql)) } catch { outcome = .failure(error) }
        if case .failure(let f) = outcome, !f.isConnection {
            let why = await c.warnings().filter { !$0.hasPrefix("Operation ALTER USER failed") }
            if !why.isEmpty { outcome = .failure(MySQLConnection.Failure(code: f.code, message: f.message + " (" + why.joined(separator: "; ") + ")")) }
        }
        await c.close()
        if case .failure(let f) = outcome { throw Self.map(f, job, during: step) }
        try job.exposure?.sent()
        return ResetReport(message: "\(step): done")
    }

    func connect(_ job: ResetJob, as user: String, _ password: Secret?) async throws(ResetFailure) -> MySQLConnection {
        let o = job.settings.options
        guard var tls = MySQLConnection.TLSMode(rawValue: o["tls"] ?? "required") else {
            throw ResetFailure(.unsupported, "SQL option tls must be none, required or verify")
        }
        if tls != .none { tls = job.settings.tlsVerify ? .verify : .required }
        let options = MySQLConnection.Options(host: job.host, port: job.settings.port, user: user, password: try Self.password(password, of: user),
            database: o["database"].flatMap { $0.isEmpty ? nil : $0 }, tls: tls, caFile: o["caFile"], timeout: job.settings.connectTimeout)
        do throws(MySQLConnection.Failure) { return try await MySQLConnection.open(options) } catch {
            throw Self.map(error, job, during: "connect as \(user)")
        }
    }

    /// Server and client error numbers to the shared taxonomy.
    static func map(_ f: MySQLConnection.Failure, _ job: ResetJob, during step: String) -> ResetFailure {
        // A syntax error quotes the statement, and so the escaped password: its text is not kept.
        let message = f.code == 1064 ? "syntax error (the server's text quotes the statement and is not shown)" : f.message
        let text = Secret.redact("\(step): \(f.code) \(message)", job.secrets)
        switch f.code {
        case 1045, 1698: return ResetFailure(.authenticationFailed, text)
        case 1396 where !message.contains("policy"):
            return ResetFailure(.unsupported, text + " (does the account exist with this hostPart?)")
        case 1819, 1396, 1820, 1862: return ResetFailure(.rejectedByTarget, text)
        case 1044, 1142, 1227: return ResetFailure(.permissionDenied, text)
        case _ where f.isConnection: return ResetFailure(.unreachable, text)
        default: return ResetFailure(.protocolError, text)
        }
    }
}
