import Crypto
import Foundation
import ResetPlugins
import Shared

/// Directory sign-in: its settings (super-administrators change them, since a mapping can make
/// administrators), a test bind, and the sign-in of a user with no local password, whose role the
/// directory's groups decide at every sign-in. The directory password is never stored.
struct DirectoryService: Sendable {
    enum SignIn: Sendable {
        case user(UserRecord)
        /// `account`: the name as the directory knows it, when it found the user (else the typed
        /// name is not repeated: it may be a password typed in the wrong field).
        case refused(String, account: String?)
        case notConfigured
        case unavailable(String)
    }

    let store: any DirectoryStore
    /// For the import: who exists, the user groups, and the import's own audit row.
    let userStore: any IdentityStore
    let users: any UserStore
    let userGroups: any UserGroupStore
    let audit: any AuditStore
    let authorizer: Authorizer
    /// Where a CA given as PEM is written for libldap.
    let dataDir: String
    let now: @Sendable () -> Date
    var timeout: Double = 10

    func settings(by p: Principal) async throws -> DirectorySettingsView? {
        try authorizer.check(p, .manageSettings)
        return try await store.directory().map { DirectorySettingsView($0.body, passwordSet: $0.bindPassword != nil) }
    }

    func save(_ b: DirectorySettingsBody, by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        guard p.superAdmin else { throw DomainError.forbidden("only a super-administrator sets directory sign-in (its groups can make administrators)") }
        try b.validate()
        let stored = try await store.directory()
        if b.bindPassword == nil && (stored?.bindPassword == nil || !DirectoryRecords.keepsPassword(stored?.body, b)) {
            throw DomainError.invalid("missing_field", "bindPassword is required with a new url or bindDN")
        }
        let maps = b.roleMappings.map { "\($0.group) → \($0.role.rawValue)" }.joined(separator: "; ")
        let sync = b.directorySync.map { "; sync \($0.dailyAt.map { "daily at \($0) \(b.directorySync?.timeZone ?? "")" } ?? "on demand"), acting as \(p.username)" }
        try await store.saveDirectory(b, owner: b.directorySync != nil ? p.userID : nil, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "save_settings",
            message: "directory: \(b.url) as \(b.bindDN), base \(b.baseDN), roles \(maps)" + (b.bindPassword != nil ? " (password changed)" : "") + (sync ?? "")))
    }

    func remove(by p: Principal, ip: String) async throws {
        try authorizer.check(p, .manageSettings)
        guard p.superAdmin else { throw DomainError.forbidden("only a super-administrator sets directory sign-in") }
        try await store.saveDirectory(nil, owner: nil, at: now(), audit: AuditEvent(user: p.username, ip: ip, operation: "save_settings", message: "directory: removed"))
    }

    /// Binds as the service account and reads the base: whether that worked, and what happened.
    func test(by p: Principal) async throws -> (Bool, String) {
        try authorizer.check(p, .manageSettings)
        guard let stored = try await store.directory() else { return (false, "no directory is configured") }
        do { return (true, try await DirectoryLogin(try config(stored)).test()) } catch let f as DirectoryLogin.Failure { return (false, f.message) }
    }

    func signIn(username: String, password: Secret, ip: String) async -> SignIn {
        let stored: StoredDirectory
        do {
            guard let s = try await store.directory() else { return .notConfigured }
            stored = s
        } catch { return .unavailable("the directory settings cannot be read") }
        let identity: DirectoryLogin.Identity
        do {
            identity = try await DirectoryLogin(try config(stored)).authenticate(username: username, password: password,
                groups: stored.body.roleMappings.map(\.group))
        } catch let f as DirectoryLogin.Failure {
            switch f.kind {
            case .invalidCredentials, .disabled: return .refused(f.message, account: f.account)
            case .unavailable, .misconfigured: return .unavailable(f.message)
            }
        } catch { return .unavailable("\(error)") }
        guard let role = stored.body.role(for: identity.groups) else {
            return .refused("the user is in none of the mapped directory groups", account: identity.name)
        }
        // The directory's spelling of the name: one account is one Custody user, however it was typed.
        guard (try? Validate.name(identity.name, field: "username", max: 100)) != nil else {
            return .refused("the directory's name for the user is not an acceptable user name", account: nil)
        }
        do {
            return .user(try await store.signIn(directoryUser: identity.name, role: role, email: identity.email, enable: false, at: now(),
                actor: identity.name, ip: ip))
        } catch let e as StoreError where e.code == .conflict {
            return .refused(e.message, account: identity.name)
        } catch { return .unavailable("the directory user cannot be saved") }
    }

    func config(_ s: StoredDirectory) throws -> DirectoryLogin.Config {
        guard let password = s.bindPassword else { throw DirectoryLogin.Failure(kind: .misconfigured, message: "no bind password is stored") }
        var c = DirectoryLogin.Config(url: s.body.url, caFile: try caFile(s.body), bindDN: s.body.bindDN, bindPassword: password,
            baseDN: s.body.baseDN, userAttribute: s.body.userAttribute ?? "sAMAccountName", timeout: timeout)
        c.kerberos = s.body.kerberos ?? true
        return c
    }

    /// `caFile`, or the PEM written once under the data directory (by each node that needs it).
    func caFile(_ b: DirectorySettingsBody) throws -> String? {
        guard let pem = b.caPEM else { return b.caFile }
        let name = SHA256.hash(data: Data(pem.utf8)).prefix(8).hexString
        let path = URL(fileURLWithPath: dataDir).appendingPathComponent("directory-ca-\(name).pem").path
        if !FileManager.default.fileExists(atPath: path) { try Data(pem.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        return path
    }
}
