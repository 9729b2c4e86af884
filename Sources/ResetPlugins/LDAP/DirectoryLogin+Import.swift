import CLDAP
import Foundation
import Shared

/// What the users' import reads from the directory: people under bases or in groups (nested
/// members too), each with the mapped groups it is in, and each chosen group with its members.
extension DirectoryLogin {
    public struct Person: Sendable, Equatable {
        public let name: String
        public let dn: String
        public let email: String?
        public let disabled: Bool
        /// The groups asked about (`mapped`) that the person is in, nested ones included.
        public let groups: [String]
        /// `sAMAccountName`: a domain account's name, whatever attribute users sign in with.
        public var account: String? = nil
    }

    public struct Group: Sendable, Equatable {
        public let dn: String
        public let name: String
        public let members: [String]
    }

    public struct People: Sendable {
        public let people: [Person]
        public let groups: [Group]
        /// Entries found without the user attribute (by DN): neither imported nor gone.
        public var unnamed: [String] = []
    }

    /// At most this many people per import.
    public static let importLimit = 10_000

    public func people(inGroups groupDNs: [String], under bases: [String], mapped: [String]) async throws(Failure) -> People {
        let c = try await connect()
        do throws(LDAPConnection.Failure) {
            let attrs = Array(Set(["sAMAccountName", "userPrincipalName", "mail", "userAccountControl", config.userAttribute]))
            let person = "(objectCategory=person)(objectClass=user)"
            var found: [String: LDAPConnection.Entry] = [:]
            var groups: [Group] = []
            for g in groupDNs {
                let entry = try await c.search(base: g, scope: .base, filter: "(objectClass=group)", attributes: ["sAMAccountName", "cn"]).first
                guard let entry else { throw LDAPConnection.Failure(code: LDAP_NO_SUCH_OBJECT, diagnostic: "\(g) is not a group") }
                let members = try await c.pagedSearch(base: config.baseDN, filter: "(&\(person)(memberOf:1.2.840.113556.1.4.1941:=\(LDAPConnection.escapeFilter(g))))", attributes: attrs,
                    limit: Self.importLimit)
                for m in members { found[m.dn.lowercased()] = m }
                groups.append(Group(dn: g, name: entry.string("sAMAccountName") ?? entry.string("cn") ?? g,
                    members: members.compactMap { name(of: $0) }))
            }
            for b in bases {
                for m in try await c.pagedSearch(base: b, filter: "(&\(person))", attributes: attrs, limit: Self.importLimit) {
                    found[m.dn.lowercased()] = m
                }
            }
            if found.count > Self.importLimit { throw LDAPConnection.Failure(code: LDAP_SIZELIMIT_EXCEEDED, diagnostic: "") }
            var inMapped: [String: [String]] = [:]
            for g in mapped {
                // A mapped group that is not there would make everyone "in no mapped group".
                var isGroup = false
                do throws(LDAPConnection.Failure) {
                    isGroup = try await c.search(base: g, scope: .base, filter: "(objectClass=group)", attributes: ["cn"]).first != nil
                } catch where error.code == LDAP_NO_SUCH_OBJECT {}
                guard isGroup else { throw LDAPConnection.Failure(code: LDAP_NO_SUCH_OBJECT, diagnostic: "the mapped group \(g) is not a group") }
                for m in try await c.pagedSearch(base: config.baseDN, filter: "(&\(person)(memberOf:1.2.840.113556.1.4.1941:=\(LDAPConnection.escapeFilter(g))))", attributes: ["distinguishedName"],
                    limit: Self.importLimit)
                {
                    inMapped[m.dn.lowercased(), default: []].append(g)
                }
            }
            let entries = found.values.sorted { $0.dn < $1.dn }
            let people = entries.compactMap { e -> Person? in
                guard let n = name(of: e) else { return nil }
                let uac = Int(e.string("userAccountControl") ?? "") ?? 0
                return Person(name: n, dn: e.dn, email: e.string("mail"), disabled: uac & 0x2 != 0, groups: inMapped[e.dn.lowercased()] ?? [],
                    account: e.string("sAMAccountName"))
            }
            await c.close()
            return People(people: people, groups: groups, unnamed: entries.filter { name(of: $0) == nil }.map(\.dn))
        } catch {
            await c.close()
            if error.code == LDAP_SIZELIMIT_EXCEEDED {
                throw Failure(kind: .misconfigured, message: "the directory returned no more than its size limit (at most \(Self.importLimit), "
                    + "and Windows AD's MaxPageSize, 1000 by default): import narrower groups or bases")
            }
            throw Failure(kind: error.isConnection ? .unavailable : .misconfigured, message: "reading the directory: \(error.text)")
        }
    }

    /// The name a person signs in with: the configured user attribute's value.
    func name(of e: LDAPConnection.Entry) -> String? {
        config.userAttribute.caseInsensitiveCompare("userPrincipalName") == .orderedSame ? e.string("userPrincipalName") : e.string(config.userAttribute)
    }
}

/// What the resources' import reads: computer objects under a base.
extension DirectoryLogin {
    public struct Computer: Sendable, Equatable {
        public let name: String
        public let dnsName: String?
        public let operatingSystem: String?
        public let dn: String
        public let disabled: Bool

        /// The DN of the OU (or container) that holds the computer.
        public var parent: String { dn.split(separator: ",", maxSplits: 1).dropFirst().first.map(String.init) ?? "" }
    }

    public func computers(under base: String) async throws(Failure) -> [Computer] {
        let c = try await connect()
        do throws(LDAPConnection.Failure) {
            let found = try await c.pagedSearch(base: base, filter: "(objectCategory=computer)",
                attributes: ["cn", "dNSHostName", "operatingSystem", "userAccountControl"], limit: Self.importLimit)
            await c.close()
            return found.sorted { $0.dn < $1.dn }.compactMap { e in
                guard let cn = e.string("cn") else { return nil }
                return Computer(name: cn, dnsName: e.string("dNSHostName"), operatingSystem: e.string("operatingSystem"), dn: e.dn,
                    disabled: (Int(e.string("userAccountControl") ?? "") ?? 0) & 0x2 != 0)
            }
        } catch {
            await c.close()
            if error.code == LDAP_SIZELIMIT_EXCEEDED {
                throw Failure(kind: .misconfigured, message: "more computers than the directory's size limit (at most \(Self.importLimit)): import a narrower base")
            }
            throw Failure(kind: error.isConnection ? .unavailable : .misconfigured, message: "reading the directory: \(error.text)")
        }
    }
}
