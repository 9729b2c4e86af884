import Foundation

/// A real Active Directory domain controller (Samba's AD DC) for the tests: realm CUSTODY.TEST,
/// provisioned once per test process with its own CA, in a network namespace of its own (its LDAP
/// ports 389/636 cannot be moved, so nothing else on the machine can collide with them). Only
/// LDAP, CLDAP and the KDC run. Password ages are off; complexity, a minimum length of 7 and a
/// history of 24 stay on, and the previous password keeps binding for 60 minutes, as on Windows.
/// A watchdog stops it, and removes the namespace, when the test process ends.
public enum SambaDC {
    public static let dir = "/tmp/custody-samba-\(getpid())"
    public static let realm = "CUSTODY.TEST"
    public static let dnsDomain = "custody.test"
    public static let netbios = "CUSTODY"
    public static let baseDN = "DC=custody,DC=test"
    public static let usersDN = "CN=Users,\(baseDN)"
    public static let adminPassword = "Admin-Pass-\(getpid())!"
    public static var caFile: String { dir + "/ca.crt" }
    public static var host: String { net?.inner ?? "" }
    public static var ldapsURL: String { "ldaps://\(host)" }

    public struct Ready: Sendable {
        public let available: Bool
        public let why: String
    }

    public static let ready: Ready = start()
    nonisolated(unsafe) private static var net: BlackHoleNet?

    private static func start() -> Ready {
        guard getuid() == 0 else { return Ready(available: false, why: "the DC needs root (a network namespace)") }
        for tool in ["/usr/sbin/samba", "/usr/bin/samba-tool", "/usr/bin/kinit", "/usr/bin/ldapadd"]
        where !FileManager.default.isExecutableFile(atPath: tool) {
            return Ready(available: false, why: "\(tool) is missing (make test installs samba, samba-ad-dc, krb5-user, ldap-utils)")
        }
        guard let n = BlackHoleNet.make(tag: "dc", net: 214) else { return Ready(available: false, why: "cannot make a network namespace") }
        net = n
        let sh = TestTargets.sh
        TestTargets.sweep("custody-samba-")
        sh("rm -rf \(dir); mkdir -p \(dir)/dc/run")
        TestCA.issue(in: dir, ips: [n.inner])
        sh("chmod 600 \(dir)/server.key")
        var options = [
            "interfaces = \(n.inner)", "bind interfaces only = yes", "server services = ldap cldap kdc", "tls enabled = yes",
            "tls keyfile = \(dir)/server.key", "tls certfile = \(dir)/server.crt", "tls cafile = \(dir)/ca.crt",
            "log file = \(dir)/log.%m", "pid directory = \(dir)/dc/run", "ncalrpc dir = \(dir)/dc/run/ncalrpc",
            "winbindd socket directory = \(dir)/dc/run/winbindd", "ntp signd socket directory = \(dir)/dc/run/ntp",
        ].map { "--option=\($0)" }
        options = ["/usr/bin/samba-tool", "domain", "provision", "--realm=\(realm)", "--domain=\(netbios)", "--host-name=dc1",
            "--server-role=dc", "--dns-backend=NONE", "--use-rfc2307", "--adminpass=\(adminPassword)", "--targetdir=\(dir)/dc"] + options
        let provision = Spawn.run(options, timeout: 120)
        guard provision.status == 0 else { return Ready(available: false, why: "samba-tool domain provision failed: \(provision.out.suffix(600))") }
        let settings = Spawn.run(["/usr/bin/samba-tool", "domain", "passwordsettings", "set", "--min-pwd-age=0", "--max-pwd-age=0",
            "-s", conf])
        guard settings.status == 0 else { return Ready(available: false, why: "passwordsettings: \(settings.out.suffix(400))") }
        try? krb5Conf.write(toFile: dir + "/krb5.conf", atomically: true, encoding: .utf8)
        let pid = Spawn.background(["/usr/sbin/ip", "netns", "exec", n.name, "/usr/sbin/samba", "-F", "-M", "single", "--debug-stdout", "-s", conf])
        _ = Spawn.background(["/bin/sh", "-c", """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; kill \(pid) 2>/dev/null; sleep 1
            ip netns pids \(n.name) 2>/dev/null | xargs -r kill -9; ip netns del \(n.name); rm -rf \(dir)
            """])
        guard TestTargets.waitForPort(636, host: n.inner, seconds: 30), TestTargets.waitForPort(88, host: n.inner, seconds: 10) else {
            return Ready(available: false, why: "samba did not listen on \(n.inner):636 and :88 within 30 s (see \(dir)/log.samba)")
        }
        // LDAPS answers before the directory is ready for writes: wait for the Administrator's bind.
        for _ in 0..<50 where !ldapBinds("Administrator@\(dnsDomain)", adminPassword) { usleep(200_000) }
        guard ldapBinds("Administrator@\(dnsDomain)", adminPassword) else { return Ready(available: false, why: "the Administrator cannot bind") }
        return Ready(available: true, why: "")
    }

    static var conf: String { dir + "/dc/etc/smb.conf" }

    static var krb5Conf: String {
        """
        [libdefaults]
         default_realm = \(realm)
         dns_lookup_kdc = false
         udp_preference_limit = 1
        [realms]
         \(realm) = {
          kdc = \(host):88
         }

        """
    }

    /// AD's password value in LDIF: base64 of the quoted password in UTF-16LE.
    public static func unicodePwd(_ password: String) -> String {
        Data(Array("\"\(password)\"".utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }).base64EncodedString()
    }

    /// An LDAP tool (ldapadd, ldapmodify, ldapdelete, ldapsearch) as the Administrator over LDAPS.
    @discardableResult
    public static func ldap(_ tool: String, _ args: [String] = [], ldif: String? = nil) -> (status: Int32, out: String) {
        Spawn.run(["/usr/bin/\(tool)", "-H", ldapsURL, "-D", "Administrator@\(dnsDomain)", "-w", adminPassword] + args, stdin: ldif,
            env: ["LDAPTLS_CACERT": caFile])
    }

    /// A fresh enabled user with a known password, set by the Administrator; returns its DN.
    @discardableResult
    public static func user(_ sam: String, password: String, in container: String = usersDN, upn: Bool = true) -> String {
        let dn = "CN=\(sam),\(container)"
        ldap("ldapdelete", [dn])
        let r = ldap("ldapadd", ldif: """
            dn: \(dn)
            objectClass: user
            sAMAccountName: \(sam)
            \(upn ? "userPrincipalName: \(sam)@\(dnsDomain)\n" : "")unicodePwd:: \(unicodePwd(password))
            userAccountControl: 512

            """)
        precondition(r.status == 0, "cannot add \(dn): \(r.out)")
        return dn
    }

    /// The Administrator replaces a password, as someone working behind Custody's back would.
    public static func setPassword(_ dn: String, _ password: String) {
        let r = ldap("ldapmodify", ldif: "dn: \(dn)\nchangetype: modify\nreplace: unicodePwd\nunicodePwd:: \(unicodePwd(password))\n-\n")
        precondition(r.status == 0, "cannot set the password of \(dn): \(r.out)")
    }

    /// Sets (or with nil removes) one attribute as the Administrator.
    public static func modify(_ dn: String, _ attribute: String, _ value: String?) {
        let change = value.map { "replace: \(attribute)\n\(attribute): \($0)" } ?? "delete: \(attribute)"
        let r = ldap("ldapmodify", ldif: "dn: \(dn)\nchangetype: modify\n\(change)\n-\n")
        precondition(r.status == 0, "cannot modify \(dn): \(r.out)")
    }

    /// A domain account allowed to reset passwords (in Domain Admins; a real site delegates "Reset
    /// password" on an OU instead), made once per run.
    public static let resetAdmin: (name: String, password: String) = {
        let admin = (name: "custody-reset", password: "Reset-Admin-1!")
        guard ready.available else { return admin }
        user(admin.name, password: admin.password)
        let r = tool(["group", "addmembers", "Domain Admins", admin.name])
        precondition(r.status == 0, "cannot make \(admin.name) a domain admin: \(r.out)")
        return admin
    }()

    /// `samba-tool` against the running DC as the Administrator.
    @discardableResult
    public static func tool(_ args: [String]) -> (status: Int32, out: String) {
        Spawn.run(["/usr/bin/samba-tool"] + args + ["-H", "ldap://\(host)", "-U", "Administrator%\(adminPassword)", "-s", conf])
    }

    /// Whether a simple bind over LDAPS succeeds (the previous password still does for an hour).
    public static func ldapBinds(_ name: String, _ password: String) -> Bool {
        Spawn.run(["/usr/bin/ldapsearch", "-H", ldapsURL, "-D", name, "-w", password, "-b", "", "-s", "base", "dn"],
            env: ["LDAPTLS_CACERT": caFile]).status == 0
    }

    /// Whether `password` is the account's current one, by the KDC (which refuses a previous one
    /// at once), independently of the plugin.
    public static func passwordIs(_ sam: String, _ password: String) -> Bool {
        Spawn.run(["/usr/bin/kinit", "\(sam)@\(realm)"], stdin: password + "\n",
            env: ["KRB5_CONFIG": dir + "/krb5.conf", "KRB5CCNAME": "MEMORY:"]).status == 0
    }
}
