import CLDAP
import Foundation

extension LDAPConnection {
    /// One entry of a search: its DN and the values of the attributes asked for.
    struct Entry: Sendable {
        let dn: String
        let values: [String: [[UInt8]]]

        func string(_ attribute: String) -> String? {
            values.first { $0.key.caseInsensitiveCompare(attribute) == .orderedSame }?.value.first.map { String(decoding: $0, as: UTF8.self) }
        }
    }

    enum Scope { case base, subtree }

    /// A search returning at most `limit` entries; more matches fail with `LDAP_SIZELIMIT_EXCEEDED`.
    func search(base: String, scope: Scope, filter: String, attributes: [String], limit: Int32 = 0) async throws(Failure) -> [Entry] {
        try await call { () throws(Failure) -> [Entry] in
            var attrs: [UnsafeMutablePointer<CChar>?] = attributes.map { strdup($0) } + [nil]
            defer { for a in attrs { free(a) } }
            var res: OpaquePointer?
            let rc = ldap_search_ext_s(self.ld, base, scope == .base ? LDAP_SCOPE_BASE : LDAP_SCOPE_SUBTREE, filter, &attrs, 0, nil, nil,
                nil, limit, &res)
            defer { if res != nil { ldap_msgfree(res) } }
            guard rc == LDAP_SUCCESS else { throw self.failure(rc) }
            return self.entries(res, attributes)
        }
    }

    /// The entries of a search result, with the values of `attributes`.
    private func entries(_ res: OpaquePointer?, _ attributes: [String]) -> [Entry] {
        var entries: [Entry] = []
        var e = ldap_first_entry(self.ld, res)
        while let entry = e {
            var dn = ""
            if let p = ldap_get_dn(self.ld, entry) {
                dn = String(cString: p)
                ldap_memfree(p)
            }
            var values: [String: [[UInt8]]] = [:]
            for name in attributes {
                guard let vals = ldap_get_values_len(self.ld, entry, name) else { continue }
                var list: [[UInt8]] = []
                var i = 0
                while let v = vals[i] {
                    list.append(v.pointee.bv_len == 0 ? [] : Array(UnsafeRawBufferPointer(start: v.pointee.bv_val, count: Int(v.pointee.bv_len))))
                    i += 1
                }
                ldap_value_free_len(vals)
                values[name] = list
            }
            entries.append(Entry(dn: dn, values: values))
            e = ldap_next_entry(self.ld, entry)
        }
        return entries
    }

    /// A subtree search in pages of `pageSize` (RFC 2696), for results past a server's size limit
    /// (AD's MaxPageSize, 1000 by default); more than `limit` entries fail with `LDAP_SIZELIMIT_EXCEEDED`.
    func pagedSearch(base: String, filter: String, attributes: [String], limit: Int, pageSize: Int32 = 500) async throws(Failure) -> [Entry] {
        try await call { () throws(Failure) -> [Entry] in
            var attrs: [UnsafeMutablePointer<CChar>?] = attributes.map { strdup($0) } + [nil]
            defer { for a in attrs { free(a) } }
            var cookie = berval()
            defer { if cookie.bv_val != nil { ber_memfree(cookie.bv_val) } }
            var entries: [Entry] = []
            // A server that hands out cookies with empty pages is not followed for ever.
            var pages = 0
            let maxPages = limit / Int(max(pageSize, 1)) * 10 + 100
            repeat {
                pages += 1
                if pages > maxPages { throw Failure(code: LDAP_SIZELIMIT_EXCEEDED, diagnostic: "more than \(maxPages) pages") }
                var res: OpaquePointer?
                let rc = cldap_search_page(self.ld, base, LDAP_SCOPE_SUBTREE, filter, &attrs, pageSize, &cookie, &res)
                defer { if res != nil { ldap_msgfree(res) } }
                guard rc == LDAP_SUCCESS else { throw self.failure(rc) }
                entries += self.entries(res, attributes)
                if entries.count > limit { throw Failure(code: LDAP_SIZELIMIT_EXCEEDED, diagnostic: "more than \(limit) entries") }
            } while cookie.bv_len > 0
            return entries
        }
    }

    /// RFC 4515: a value made safe to put in a filter.
    static func escapeFilter(_ value: String) -> String {
        let special: Set<UInt8> = [UInt8(ascii: "*"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"), 0]
        return String(decoding: Array(value.utf8).flatMap { special.contains($0) ? Array(String(format: "\\%02x", $0).utf8) : [$0] }, as: UTF8.self)
    }
}

extension LDAPConnection {
    /// The numeric address of the server this connection reached (nil before it connected).
    func peerAddress() async -> String? {
        try? await call { () throws(Failure) -> String? in
            guard let ld = self.ld else { return nil }
            var fd: Int32 = -1
            guard ldap_get_option(ld, LDAP_OPT_DESC, &fd) == LDAP_SUCCESS, fd >= 0 else { return nil }
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let got = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) } }
            guard got == 0 else { return nil }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            let rc = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, len, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) }
            }
            return rc == 0 ? String(cString: host) : nil
        }
    }
}
