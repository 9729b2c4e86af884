import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Shared

/// PostgreSQL roles through postgres-nio: `ALTER ROLE "name" PASSWORD 'SCRAM-SHA-256$...'` with a
/// verifier computed here, so the password never crosses the wire nor lands in the server's logs.
/// Verify connects as the role (SCRAM authentication).
///
/// Reset config options: `database` (default `postgres`), `tls` (required, the default, or none;
/// `verify` is the same as required), `tlsVerify` (false skips the certificate check), `caFile`. The login account is a role with CREATEROLE; without it the role changes its own.
public struct PostgresPlugin: ResetPlugin {
    public let descriptor = PluginDescriptor(id: "postgresql", resourceTypes: ["PostgreSQL Server"],
        capabilities: [.reset, .verify, .selfChange], constraints: PasswordConstraints(maxLength: 128))

    public init() {}

    public func defaultPort(_ settings: ResetSettings) -> Int? { 5432 }

    static let logger: Logger = {
        var l = Logger(label: "custody.postgres")
        l.logLevel = .critical  // statements carry verifiers: nothing below critical is logged
        return l
    }()

    public func verify(_ job: ResetJob) async throws(ResetFailure) {
        let c = try await connect(job, as: job.loginName, job.currentPassword)
        try? await c.close()
    }

    public func reset(_ job: ResetJob) async throws(ResetFailure) -> ResetReport {
        guard let new = job.newPassword else { throw ResetFailure(.protocolError, "no new password") }
        guard job.loginName.utf8.count <= 63 else { throw ResetFailure(.unsupported, "PostgreSQL role names have at most 63 bytes") }
        // postgres-nio logs in without SASLprep; a password SASLprep changes would never verify.
        guard SCRAMVerifier.prepare(new.reveal()) == new.reveal() else {
            throw ResetFailure(.unsupported, "the password changes under SASLprep (non-ASCII spaces or compatibility forms)")
        }
        let admin = job.loginAccount
        let c = try await connect(job, as: admin?.loginName ?? job.loginName, admin == nil ? job.currentPassword : admin?.password)
        let sql = "ALTER ROLE \(Self.identifier(job.loginName)) PASSWORD '\(SCRAMVerifier.make(new))'"
        let timeout = job.settings.promptTimeout
        // postgres-nio does not cancel a query: at the deadline the connection is closed, which fails it.
        let deadline = Deadline()
        do throws(ResetFailure) { try job.exposure?.willSend() } catch {
            try? await c.close()
            throw error
        }
        job.exposure?.markReached()
        var outcome: Result<Void, any Error> = .success(())
        await withTaskGroup(of: Result<Void, any Error>?.self) { group in
            group.addTask {
                do { try await c.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger); return .success(()) } catch { return .failure(error) }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(timeout))
                if !Task.isCancelled {
                    deadline.pass()
                    try? await c.close()
                }
                return nil
            }
            for await result in group {
                guard let result else { continue }
                outcome = result
                group.cancelAll()
                break
            }
        }
        try? await c.close()
        if deadline.passed {
            throw ResetFailure(.promptTimeout, "ALTER ROLE \(Self.identifier(job.loginName)) sent, no answer within \(ScriptListener.seconds(timeout)) s")
        }
        if case .failure(let error) = outcome {
            throw Self.map(error, job, during: "ALTER ROLE \(Self.identifier(job.loginName))")
        }
        try job.exposure?.sent()
        return ResetReport(message: "ALTER ROLE \(Self.identifier(job.loginName)) with a SCRAM-SHA-256 verifier")
    }

    func connect(_ job: ResetJob, as user: String, _ password: Secret?) async throws(ResetFailure) -> PostgresConnection {
        let o = job.settings.options
        guard let password, !password.isEmpty else { throw ResetFailure(.unsupported, "no stored password for \(user) to log in with") }
        guard ["none", "required", "verify"].contains(o["tls"] ?? "required") else {
            throw ResetFailure(.unsupported, "SQL option tls must be none, required or verify")
        }
        do {
            var config = PostgresConnection.Configuration(host: job.host, port: job.settings.port, username: user,
                password: password.reveal(), database: o["database"].flatMap { $0.isEmpty ? nil : $0 } ?? "postgres",
                tls: try Self.tls(o, verify: job.settings.tlsVerify))
            config.options.connectTimeout = .seconds(Int64(max(1, job.settings.connectTimeout.rounded(.up))))
            return try await PostgresConnection.connect(configuration: config, id: 1, logger: Self.logger)
        } catch { throw Self.map(error, job, during: "connect as \(user)") }
    }

    static func tls(_ o: [String: String], verify: Bool) throws -> PostgresConnection.Configuration.TLS {
        guard (o["tls"] ?? "required") != "none" else { return .disable }
        var c = TLSConfiguration.makeClientConfiguration()
        if let ca = o["caFile"] { c.trustRoots = .file(ca) }
        c.certificateVerification = verify ? .fullVerification : .none
        return .require(try NIOSSLContext(configuration: c))
    }

    /// A quoted identifier: `"` doubled inside.
    static func identifier(_ name: String) -> String { "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func map(_ error: any Error, _ job: ResetJob, during step: String) -> ResetFailure {
        if let f = error as? ResetFailure { return f }
        guard let e = error as? PSQLError else {
            return ResetFailure(.unreachable, Secret.redact("\(step): \(error)", job.secrets))
        }
        let state = e.serverInfo?[.sqlState] ?? ""
        let text = Secret.redact("\(step): \(state) \(e.serverInfo?[.message] ?? e.code.description)", job.secrets)
        switch state {
        case "28P01": return ResetFailure(.authenticationFailed, text)
        case "28000", "42501": return ResetFailure(.permissionDenied, text)  // 28000: no pg_hba rule lets this role in
        case "42704": return ResetFailure(.unsupported, text + " (no such role)")
        case "22023", "23514": return ResetFailure(.rejectedByTarget, text)
        case "": return ResetFailure(.unreachable, text)
        default: return ResetFailure(.protocolError, text)
        }
    }
}

/// Set once the deadline passed (before the connection is closed, so the failed query is read as a timeout).
final class Deadline: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var passed: Bool { lock.withLock { value } }
    func pass() { lock.withLock { value = true } }
}
