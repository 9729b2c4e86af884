import Foundation
import Processes
import Shared

/// Asks the domain's KDC whether a password is the account's current one: an AS request with
/// pre-authentication (`kinit`, credentials kept in memory and dropped). Unlike an LDAP bind, the
/// KDC refuses the previous password at once, so this is exact on a DC that keeps an old
/// password valid for a while (`OldPasswordAllowedPeriod`). The password goes on stdin.
struct KerberosCheck: Sendable {
    enum Outcome: Sendable, Equatable {
        case works
        /// The KDC refused the password.
        case refused(String)
        /// The account may not sign in (disabled, locked, expired).
        case revoked(String)
        /// No answer that says either (no KDC, no kinit, clock skew…).
        case cannotTell(String)
    }

    var kinit = ["/usr/bin/kinit", "/usr/local/bin/kinit"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let kdcHost: String
    let kdcPort: Int
    let realm: String
    let timeout: Double

    func check(account sam: String, password: Secret) async -> Outcome {
        guard let kinit else { return .cannotTell("kinit is not installed (package krb5-user)") }
        guard !sam.contains(where: { "/@\\\n\r".contains($0) }), !realm.contains(where: { !($0.isLetter || $0.isNumber || "-.".contains($0)) }),
            !kdcHost.contains(where: { $0.isWhitespace || "{}\"".contains($0) })
        else { return .cannotTell("the account, realm or KDC name cannot be passed to kinit") }
        let text = password.reveal()
        guard !text.contains("\n"), !text.contains("\r") else { return .cannotTell("the password has a line break, which kinit cannot read") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("custody-krb5-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700]) } catch {
            return .cannotTell("cannot make a temporary directory: \(error)")
        }
        defer { try? FileManager.default.removeItem(at: dir) }
        let host = kdcHost.contains(":") ? "[\(kdcHost)]" : kdcHost
        let config = """
            [libdefaults]
             default_realm = \(realm)
             dns_lookup_kdc = false
             dns_lookup_realm = false
             dns_canonicalize_hostname = false
             rdns = false
             udp_preference_limit = 1
            [realms]
             \(realm) = {
              kdc = \(host):\(kdcPort)
             }

            """
        let path = dir.appendingPathComponent("krb5.conf").path
        guard FileManager.default.createFile(atPath: path, contents: Data(config.utf8)) else { return .cannotTell("cannot write krb5.conf") }
        let request = ChildProcess.Request(argv: [kinit, "--", "\(sam)@\(realm)"],
            environment: ["KRB5_CONFIG": path, "KRB5CCNAME": "MEMORY:", "LC_ALL": "C", "PATH": "/usr/bin:/bin"], workingDirectory: dir.path,
            stdin: Array((text + "\n").utf8), timeout: timeout, outputLimit: 16 << 10)
        let result: ChildProcess.Result
        do { result = try await ChildProcess.run(request) } catch { return .cannotTell("kinit did not start: \(error.description)") }
        if result.timedOut { return .cannotTell("the KDC at \(host):\(kdcPort) did not answer within \(Int(timeout)) s") }
        if result.oversized { return .cannotTell("kinit said more than expected") }
        let said = Secret.redact(String(decoding: result.stderr + result.stdout, as: UTF8.self), [password])
            .split(whereSeparator: \.isNewline).map { $0.replacingOccurrences(of: "Password for \(sam)@\(realm): ", with: "") }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return Self.outcome(exit: result.exitCode, said: said)
    }

    /// kinit's exit and words to an outcome (MIT krb5's error texts).
    static func outcome(exit: Int32?, said: String) -> Outcome {
        if exit == 0 { return .works }
        let s = said.lowercased()
        if s.contains("password incorrect") || s.contains("preauthentication failed") { return .refused(said) }
        // The password was right, but it has expired: kinit asks for a new one, and stdin is over.
        if s.contains("password expired") || s.contains("password has expired") { return .works }
        if s.contains("credentials have been revoked") || s.contains("account locked") || s.contains("client's entry in database has expired") {
            return .revoked(said)
        }
        return .cannotTell(said.isEmpty ? "kinit failed without a message" : said)
    }
}
