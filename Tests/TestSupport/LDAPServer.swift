import Foundation

/// A real OpenLDAP `slapd` for the LDAP plugin tests: mdb backend, the ppolicy overlay with a
/// minimum length of 10, plain LDAP with StartTLS and LDAPS on 127.0.0.1, with a CA made here.
/// Started once per test process; a watchdog stops it when the process ends.
public enum LDAPServer {
    public static let dir = "/tmp/custody-slapd-\(getpid())"
    public static let port = TestTargets.freePort()
    public static let tlsPort = TestTargets.freePort()
    public static let suffix = "dc=custody,dc=test"
    public static let rootDN = "cn=root,\(suffix)"
    public static let rootPassword = "Root-Secret-\(getpid())"
    /// A non-root admin with write access to passwords: subject to the password policy, as a real one is.
    public static let adminDN = "cn=pwadmin,\(suffix)"
    public static let adminPassword = "Admin-Secret-1"
    public static let minLength = 10
    public static var caFile: String { dir + "/ca.crt" }
    public static var url: String { "ldap://127.0.0.1:\(port)" }

    public static let available: Bool = start()

    private static func start() -> Bool {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/slapd") else { return false }
        let sh = TestTargets.sh
        TestTargets.sweep("custody-slapd-")
        sh("rm -rf \(dir); mkdir -p \(dir)/db")
        TestCA.issue(in: dir)
        let conf = """
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            moduleload ppolicy
            pidfile \(dir)/slapd.pid
            TLSCACertificateFile \(dir)/ca.crt
            TLSCertificateFile \(dir)/server.crt
            TLSCertificateKeyFile \(dir)/server.key
            database mdb
            maxsize 104857600
            suffix "\(suffix)"
            rootdn "\(rootDN)"
            rootpw \(rootPassword)
            directory \(dir)/db
            overlay ppolicy
            ppolicy_default "cn=default,ou=policies,\(suffix)"
            ppolicy_hash_cleartext
            access to attrs=userPassword by dn.exact="\(adminDN)" write by self write by anonymous auth by * none
            access to * by * read

            """
        try? conf.write(toFile: dir + "/slapd.conf", atomically: true, encoding: .utf8)
        let data = """
            dn: \(suffix)
            objectClass: dcObject
            objectClass: organization
            dc: custody
            o: Custody Test

            dn: ou=policies,\(suffix)
            objectClass: organizationalUnit
            ou: policies

            dn: cn=default,ou=policies,\(suffix)
            objectClass: device
            objectClass: pwdPolicy
            cn: default
            pwdAttribute: userPassword
            pwdMinLength: \(minLength)
            pwdCheckQuality: 2

            dn: ou=people,\(suffix)
            objectClass: organizationalUnit
            ou: people

            dn: \(adminDN)
            objectClass: person
            cn: pwadmin
            sn: admin
            userPassword: \(adminPassword)

            """
        try? data.write(toFile: dir + "/data.ldif", atomically: true, encoding: .utf8)
        sh("slapadd -f \(dir)/slapd.conf -l \(dir)/data.ldif >/dev/null 2>&1")
        let pid = Spawn.background(["/usr/sbin/slapd", "-d", "0", "-f", dir + "/slapd.conf", "-h",
            "ldap://127.0.0.1:\(port)/ ldaps://127.0.0.1:\(tlsPort)/"])
        _ = Spawn.background(["/bin/sh", "-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pid); sleep 1; rm -rf \(dir)"])
        return TestTargets.waitForPort(port) && TestTargets.waitForPort(tlsPort)
    }

    /// A fresh person with a known password (set as the root DN, so no policy applies); returns its DN.
    @discardableResult
    public static func user(_ name: String, password: String) -> String {
        let dn = "uid=\(name),ou=people,\(suffix)"
        let ldif = "dn: \(dn)\nobjectClass: inetOrgPerson\nuid: \(name)\ncn: \(name)\nsn: \(name)\n"
        Spawn.run(["/usr/bin/ldapdelete", "-x", "-H", url, "-D", rootDN, "-w", rootPassword, dn])
        Spawn.run(["/usr/bin/ldapadd", "-x", "-H", url, "-D", rootDN, "-w", rootPassword], stdin: ldif)
        setPassword(dn, password)
        return dn
    }

    public static func setPassword(_ dn: String, _ password: String) {
        let file = dir + "/pw-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: file, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: file) }
        Spawn.run(["/usr/bin/ldappasswd", "-x", "-H", url, "-D", rootDN, "-w", rootPassword, "-T", file, dn])
    }

    /// Whether `password` binds as `dn`, checked by `ldapwhoami`, independently of the plugin.
    public static func passwordWorks(_ dn: String, _ password: String) -> Bool {
        let file = dir + "/pw-\(UUID().uuidString)"
        FileManager.default.createFile(atPath: file, contents: Data(password.utf8), attributes: [.posixPermissions: 0o600])
        defer { try? FileManager.default.removeItem(atPath: file) }
        return Spawn.run(["/usr/bin/ldapwhoami", "-x", "-H", url, "-D", dn, "-y", file]).status == 0
    }
}
