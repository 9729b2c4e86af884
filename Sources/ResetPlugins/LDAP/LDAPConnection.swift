import CLDAP
import Foundation
import Shared

/// One libldap handle, owned by a serial queue: every blocking call runs there, bounded by the
/// network and operation timeouts. One connection per task.
final class LDAPConnection: @unchecked Sendable {
    enum TLSMode: String, Sendable { case none, ldaps, starttls }

    /// A result code and the server's diagnostic message (never a password).
    struct Failure: Error, Sendable {
        let code: Int32
        let diagnostic: String
        var isConnection: Bool { code == LDAP_SERVER_DOWN || code == LDAP_CONNECT_ERROR || code == LDAP_TIMEOUT }
        var text: String { String(cString: ldap_err2string(code)) + (diagnostic.isEmpty ? "" : ": \(diagnostic)") }
    }

    private let owner = SerialOwner(label: "custody.ldap")
    private(set) var ld: OpaquePointer?

    private init() {}

    static func open(host: String, port: Int, tls: TLSMode, verify: Bool = true, caFile: String?, timeout: Double) async throws(Failure)
        -> LDAPConnection
    {
        let c = LDAPConnection()
        let url = "\(tls == .ldaps ? "ldaps" : "ldap")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        try await c.call { () throws(Failure) in
            var handle: OpaquePointer?
            let rc = ldap_initialize(&handle, url)
            guard rc == LDAP_SUCCESS, let handle else { throw Failure(code: rc, diagnostic: "cannot use \(url)") }
            c.ld = handle
            _ = cldap_set_int(handle, LDAP_OPT_PROTOCOL_VERSION, LDAP_VERSION3)
            _ = ldap_set_option(handle, LDAP_OPT_REFERRALS, nil)  // LDAP_OPT_OFF
            _ = cldap_set_timeout(handle, LDAP_OPT_NETWORK_TIMEOUT, timeout)
            _ = cldap_set_timeout(handle, LDAP_OPT_TIMEOUT, timeout)
            if tls != .none {
                if let caFile { _ = ldap_set_option(handle, LDAP_OPT_X_TLS_CACERTFILE, caFile) }
                _ = cldap_set_int(handle, LDAP_OPT_X_TLS_REQUIRE_CERT, verify ? LDAP_OPT_X_TLS_DEMAND : LDAP_OPT_X_TLS_ALLOW)
                _ = cldap_set_int(handle, LDAP_OPT_X_TLS_NEWCTX, 0)
            }
            if tls == .starttls {
                let rc = ldap_start_tls_s(handle, nil, nil)
                guard rc == LDAP_SUCCESS else {
                    let f = c.failure(rc)
                    ldap_unbind_ext_s(handle, nil, nil)
                    c.ld = nil
                    throw f
                }
            }
        }
        return c
    }

    /// A simple bind.
    func bind(dn: String, password: Secret) async throws(Failure) {
        try await call { () throws(Failure) in
            let pw = Array(password.reveal().utf8)
            let rc = pw.withUnsafeBufferPointer { buf -> Int32 in
                var cred = buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buf.count, 1)) {
                    cldap_berval($0, UInt(buf.count))
                }
                return ldap_sasl_bind_s(self.ld, dn, nil, &cred, nil, nil, nil)
            }
            guard rc == LDAP_SUCCESS else { throw self.failure(rc) }
        }
    }

    /// The Password Modify extended operation (RFC 3062).
    func passwordModify(dn: String, old: Secret?, new: Secret) async throws(Failure) {
        try await call { () throws(Failure) in
            let user = Array(dn.utf8), oldBytes = Array((old?.reveal() ?? "").utf8), newBytes = Array(new.reveal().utf8)
            var generated = berval()
            let rc = Self.withBerval(user) { u in
                Self.withBerval(oldBytes) { o in
                    Self.withBerval(newBytes) { n in
                        withUnsafeMutablePointer(to: &o) { op in
                            ldap_passwd_s(self.ld, &u, old == nil ? nil : op, &n, &generated, nil, nil)
                        }
                    }
                }
            }
            if generated.bv_val != nil { ber_memfree(generated.bv_val) }
            guard rc == LDAP_SUCCESS else { throw self.failure(rc) }
        }
    }

    /// Replaces `attribute` with one value; with `old`, deletes that value and adds the new one
    /// instead (what a user changing their own `unicodePwd` must send).
    func replace(dn: String, attribute: String, value: [UInt8], old: [UInt8]? = nil) async throws(Failure) {
        try await call { () throws(Failure) in
            let rc = Self.withBerval(value) { v in
                Self.withBerval(old ?? []) { o in
                    old == nil
                        ? cldap_modify_one(self.ld, dn, LDAP_MOD_REPLACE, attribute, &v, 0, nil)
                        : cldap_modify_one(self.ld, dn, LDAP_MOD_DELETE, attribute, &o, LDAP_MOD_ADD, &v)
                }
            }
            guard rc == LDAP_SUCCESS else { throw self.failure(rc) }
        }
    }

    func close() async {
        try? await call { () throws(Failure) in
            if let ld = self.ld { _ = self.owner.closing { ldap_unbind_ext_s(ld, nil, nil) } }
            self.ld = nil
        }
    }

    func call<T: Sendable>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
        try await owner.perform { () throws(Failure) -> T in
            let result = try body()
            // libldap connects on the first operation (and again after a loss); from then on a
            // cancel shuts its socket down.
            if let ld = self.ld {
                var fd: Int32 = -1
                // Watched after every call: a reconnect may reuse the number for a new socket.
                if ldap_get_option(ld, LDAP_OPT_DESC, &fd) == LDAP_SUCCESS, fd >= 0 { self.owner.watch(fd: fd) }
            }
            return result
        }
    }

    func failure(_ rc: Int32) -> Failure {
        var diagnostic = ""
        if let ld, let msg = cldap_diagnostic(ld) {
            diagnostic = String(cString: msg)
            ldap_memfree(msg)
        }
        return Failure(code: rc, diagnostic: diagnostic)
    }

    private static func withBerval<T>(_ bytes: [UInt8], _ body: (inout berval) -> T) -> T {
        var copy = bytes + [0]
        return copy.withUnsafeMutableBufferPointer { buf in
            var b = buf.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buf.count) { cldap_berval($0, UInt(bytes.count)) }
            return body(&b)
        }
    }
}
