import Foundation
import Shared
import Testing

@testable import Server
@testable import ServerTestSupport

/// `storeURL` and its password: what an administrator writes, what is refused and why.
@Suite struct StoreLocationTests {
    func file(_ text: String, mode: Int) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
        return path
    }

    func refusal(_ url: String) -> String? {
        do {
            _ = try PostgresLocation.parse(url)
            return nil
        } catch { return error.description }
    }

    @Test func aURLNamesHostPortUserDatabaseAndTLS() throws {
        let ca = try file("pem", mode: 0o644)
        let loc = try PostgresLocation.parse("postgres://custody@db.example.com:6543/vault?sslmode=verify-full&sslrootcert=\(ca)")
        #expect(loc == PostgresLocation(host: "db.example.com", port: 6543, user: "custody", database: "vault", sslMode: .verifyFull, caFile: ca))
        let plain = try PostgresLocation.parse("postgresql://custody@127.0.0.1/vault")
        #expect(plain.port == 5432 && plain.sslMode == .verifyFull, "TLS checked by default")
        #expect(try PostgresLocation.parse("postgres://u@h/d?sslmode=disable").sslMode == .disable)
    }

    @Test func badURLsAreRefusedWithTheReason() {
        #expect(refusal("postgres://u:secret@h/d")?.contains("password in the URL is refused") == true)
        #expect(refusal("postgres://u:secret@h/d")?.contains("secret") == false, "the refusal does not repeat the password")
        #expect(refusal("mysql://u@h/d")?.contains("scheme") == true)
        #expect(refusal("postgres://h/d")?.contains("no user") == true)
        #expect(refusal("postgres://u@h/")?.contains("no database") == true)
        #expect(refusal("postgres://u@h/d?sslmode=prefer")?.contains("sslmode must be one of") == true)
        #expect(refusal("postgres://u@h/d?application_name=x")?.contains("unknown option") == true)
        #expect(refusal("postgres://u@h/d?sslrootcert=/nonexistent/ca.pem")?.contains("cannot read the CA file") == true)
    }

    @Test func thePasswordComesFromTheEnvironmentOrAPrivateFile() throws {
        #expect(try PostgresLocation.password(environment: ["CUSTODY_STORE_PASSWORD": "from-env"], file: nil)?.reveal() == "from-env")
        let good = try file("from-file\nignored\n", mode: 0o600)
        #expect(try PostgresLocation.password(environment: [:], file: good)?.reveal() == "from-file")
        #expect(try PostgresLocation.password(environment: [:], file: nil) == nil)
        let open = try file("x\n", mode: 0o644)
        #expect(throws: ConfigLoader.Failure.self) { try PostgresLocation.password(environment: [:], file: open) }
        let empty = try file("\n", mode: 0o600)
        #expect(throws: ConfigLoader.Failure.self) { try PostgresLocation.password(environment: [:], file: empty) }
    }

    @Test func theConfigFileAndEnvironmentNameTheStoreAndABadOneIsAProblem() throws {
        let yaml = try file("storeURL: postgres://custody@db/vault\nstorePasswordFile: /etc/custody/db-password\n", mode: 0o600)
        var cfg = try ConfigLoader.load(file: yaml, environment: [:])
        #expect(cfg.storeURL == "postgres://custody@db/vault" && cfg.storePasswordFile == "/etc/custody/db-password")
        #expect(try cfg.storeLocation() == .postgres(PostgresLocation(host: "db", user: "custody", database: "vault")))
        cfg = try ConfigLoader.load(file: nil, environment: ["CUSTODY_STORE_URL": "postgres://u:pw@db/vault"])
        #expect(cfg.problems().contains { $0.contains("password in the URL") })
        cfg = ServerConfiguration()
        #expect(try cfg.storeLocation() == .sqlite(path: cfg.databasePath), "no storeURL: SQLite in the data directory")
    }
}
