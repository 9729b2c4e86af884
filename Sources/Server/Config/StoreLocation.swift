import Foundation
import Shared

/// Where the vault's database lives: SQLite in the data directory (one node), or a PostgreSQL
/// database several nodes share (`storeURL`).
enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(PostgresLocation)
}

/// `postgres://user@host:port/database?sslmode=verify-full&sslrootcert=/ca.pem`. The password never
/// travels in the URL (URLs reach argv, logs and process listings): it comes from
/// `CUSTODY_STORE_PASSWORD` or the file `storePasswordFile` names.
struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    enum SSLMode: String, Sendable, CaseIterable {
        /// TLS, the server's certificate checked against the CA and its name against the host.
        case verifyFull = "verify-full"
        /// TLS without checking who answers: protects against listening, not against a stand-in.
        case require
        /// No TLS: only for a database on the same machine or a private link.
        case disable
    }

    var host: String
    var port: Int = 5432
    var user: String
    var database: String
    var sslMode: SSLMode = .verifyFull
    /// PEM CA bundle for `verify-full`; nil: the system's trust store.
    var caFile: String? = nil

    var description: String { "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)" }

    static func parse(_ text: String) throws(ConfigLoader.Failure) -> PostgresLocation {
        func fail(_ why: String) -> ConfigLoader.Failure { ConfigLoader.Failure(description: "storeURL: \(why)") }
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased() else { throw fail("not a URL") }
        guard scheme == "postgres" || scheme == "postgresql" else { throw fail("the scheme must be postgres:// (got \(scheme)://)") }
        if url.password != nil {
            throw fail("a password in the URL is refused; put it in CUSTODY_STORE_PASSWORD or in the file storePasswordFile names")
        }
        guard let host = url.host, !host.isEmpty else { throw fail("no host") }
        guard let user = url.user, !user.isEmpty else { throw fail("no user (postgres://USER@host/db)") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else { throw fail("no database name (postgres://user@host/DB)") }
        var loc = PostgresLocation(host: host, port: url.port ?? 5432, user: user, database: database)
        guard (1...65535).contains(loc.port) else { throw fail("port \(loc.port) is out of range") }
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = SSLMode(rawValue: item.value ?? "") else {
                    throw fail("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                loc.sslMode = mode
            case "sslrootcert":
                guard let v = item.value, !v.isEmpty else { throw fail("sslrootcert names no file") }
                loc.caFile = v
            default: throw fail("unknown option '\(item.name)' (known: sslmode, sslrootcert)")
            }
        }
        if let ca = loc.caFile, !FileManager.default.isReadableFile(atPath: ca) { throw fail("cannot read the CA file \(ca)") }
        return loc
    }

    /// The password: `CUSTODY_STORE_PASSWORD`, else the first line of `file`, which no one but the
    /// owner may read. Nil when neither is given (trust or certificate authentication).
    static func password(environment: [String: String], file: String?) throws(ConfigLoader.Failure) -> Secret? {
        if let v = environment["CUSTODY_STORE_PASSWORD"], !v.isEmpty { return Secret(v) }
        guard let file else { return nil }
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: file),
            let text = FileManager.default.contents(atPath: file).flatMap({ String(data: $0, encoding: .utf8) })
        else { throw ConfigLoader.Failure(description: "storePasswordFile: cannot read \(file)") }
        if let mode = attrs[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw ConfigLoader.Failure(description: "storePasswordFile: \(file) is readable by others (mode \(String(mode, radix: 8))); chmod 600 it")
        }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard !line.isEmpty else { throw ConfigLoader.Failure(description: "storePasswordFile: \(file) is empty") }
        return Secret(line)
    }
}

extension ServerConfiguration {
    /// The store this configuration names; a bad `storeURL` is refused with the reason.
    func storeLocation() throws(ConfigLoader.Failure) -> StoreLocation {
        guard let url = storeURL, !url.isEmpty else { return .sqlite(path: databasePath) }
        return .postgres(try PostgresLocation.parse(url))
    }
}
