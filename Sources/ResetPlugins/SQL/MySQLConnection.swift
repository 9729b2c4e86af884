import CMariaDB
import Foundation
import Shared

/// One libmariadb connection, owned by a serial queue, with connect, read and write timeouts.
final class MySQLConnection: @unchecked Sendable {
    enum TLSMode: String, Sendable { case none, required, verify }

    struct Failure: Error, Sendable {
        let code: UInt32
        let message: String
        /// Client-side errors that mean the server could not be reached or the connection was lost.
        var isConnection: Bool { [2002, 2003, 2005, 2006, 2013, 2026, 2055].contains(code) }
    }

    struct Options: Sendable {
        var host: String
        var port: Int
        var user: String
        var password: Secret
        var database: String?
        var tls: TLSMode
        var caFile: String?
        var timeout: Double
    }

    private static let initialized: Bool = mysql_server_init(0, nil, nil) == 0
    private let owner = SerialOwner(label: "custody.mariadb")
    private var handle: UnsafeMutablePointer<MYSQL>?

    private init() {}

    static func open(_ o: Options) async throws(Failure) -> MySQLConnection {
        _ = initialized
        let c = MySQLConnection()
        try await c.owner.perform { () throws(Failure) in
            guard let m = mysql_init(nil) else { throw Failure(code: 2008, message: "out of memory") }
            c.handle = m
            let seconds = UInt32(max(1, o.timeout.rounded(.up)))
            _ = cmariadb_set_uint(m, MYSQL_OPT_CONNECT_TIMEOUT, seconds)
            _ = cmariadb_set_uint(m, MYSQL_OPT_READ_TIMEOUT, seconds)
            _ = cmariadb_set_uint(m, MYSQL_OPT_WRITE_TIMEOUT, seconds)
            _ = cmariadb_set_string(m, MYSQL_SET_CHARSET_NAME, "utf8mb4")
            _ = cmariadb_set_uint(m, MYSQL_OPT_PROTOCOL, UInt32(MYSQL_PROTOCOL_TCP.rawValue))  // never the local socket, even for "localhost"
            if o.tls != .none {
                _ = cmariadb_set_bool(m, MYSQL_OPT_SSL_ENFORCE, 1)
                _ = cmariadb_set_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, o.tls == .verify ? 1 : 0)
                // Connector/C checks the chain whenever it has a CA: unverified means none given.
                if o.tls == .verify, let ca = o.caFile { _ = cmariadb_set_string(m, MYSQL_OPT_SSL_CA, ca) }
            } else {
                _ = cmariadb_set_bool(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, 0)
            }
            guard mysql_real_connect(m, o.host, o.user, o.password.reveal(), o.database, UInt32(o.port), nil, 0) != nil else {
                let f = c.failure()
                mysql_close(m)
                c.handle = nil
                throw f
            }
            c.owner.watch(fd: Int32(mysql_get_socket(m)))
        }
        return c
    }

    /// A string literal the server reads back exactly: quoted, escaped by the client library for
    /// this connection's character set.
    func literal(_ text: String) async -> String {
        await owner.perform { () throws(Never) -> String in
            let from = Array(text.utf8)
            var to = [CChar](repeating: 0, count: from.count * 2 + 1)
            let n = from.withUnsafeBufferPointer { f in
                f.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(f.count, 1)) {
                    mysql_real_escape_string(self.handle, &to, $0, UInt(f.count))
                }
            }
            return "'" + String(decoding: to.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self) + "'"
        }
    }

    func execute(_ sql: String) async throws(Failure) {
        try await owner.perform { () throws(Failure) in
            let bytes = Array(sql.utf8)
            let rc = bytes.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(b.count, 1)) { mysql_real_query(self.handle, $0, UInt(b.count)) }
            }
            guard rc == 0 else { throw self.failure() }
            if let result = mysql_store_result(self.handle) { mysql_free_result(result) }
        }
    }

    /// The messages of `SHOW WARNINGS` (why an `ALTER USER` failed, e.g. a password policy).
    func warnings() async -> [String] {
        await owner.perform { () throws(Never) -> [String] in
            guard mysql_real_query(self.handle, "SHOW WARNINGS", 13) == 0, let result = mysql_store_result(self.handle) else { return [] }
            defer { mysql_free_result(result) }
            var out: [String] = []
            while let row = mysql_fetch_row(result) {
                if mysql_num_fields(result) >= 3, let text = row[2] { out.append(String(cString: text)) }
            }
            return out
        }
    }

    /// Whether the server is MariaDB (which keeps `PASSWORD()`) rather than MySQL 8 (which dropped it).
    func isMariaDB() async -> Bool {
        await owner.perform { () throws(Never) -> Bool in
            mysql_get_server_info(self.handle).map { String(cString: $0).contains("MariaDB") } ?? false
        }
    }

    func close() async {
        await owner.perform { () throws(Never) in
            if let h = self.handle { self.owner.closing { mysql_close(h) } }
            self.handle = nil
        }
    }

    private func failure() -> Failure {
        Failure(code: mysql_errno(handle), message: mysql_error(handle).map { String(cString: $0) } ?? "")
    }
}
