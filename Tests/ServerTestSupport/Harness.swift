import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing
import TestSupport

@testable import Server

/// A server on a fresh temporary data directory, driven in-process.
struct Harness {
    let custody: Custody
    let dataDir: String

    static func make(clock: TestClock? = nil, dataDir: String? = nil, crashAfterReset: @escaping @Sendable (TaskRecord) -> Bool = { _ in false },
        faults: ResetFaults? = nil, configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> Harness
    {
        let dir = dataDir ?? TestTargets.scratchURL.appendingPathComponent("custody-test-\(UUID().uuidString)").path
        var cfg = ServerConfiguration()
        cfg.dataDir = dir
        cfg.bcryptCost = 4
        configure(&cfg)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let opened = try await Bootstrap.open(cfg, logger: logger)
        let now: @Sendable () -> Date
        if let clock { now = { clock.now } } else { now = { Date() } }
        let custody = Custody(config: opened.config, store: opened.store, vault: opened.vault, logger: logger, now: now,
            crashAfterReset: crashAfterReset, faults: faults)
        return Harness(custody: custody, dataDir: dir)
    }

    func application() -> some ApplicationProtocol {
        Application(router: CustodyApp.router(custody).0, services: [TaskEngine(custody: custody, tick: .milliseconds(200)), ListenerRunner(custody: custody, tick: .milliseconds(200)), NotificationSender(custody: custody, tick: .milliseconds(200))], logger: custody.logger)
    }

    /// Runs `body` against the router with an API helper bound to a client.
    @discardableResult
    func run<T: Sendable>(_ body: @escaping @Sendable (API) async throws -> T) async throws -> T {
        try await application().test(.router) { client in try await body(API(client: client, harness: self)) }
    }
}

struct Reply: Sendable {
    let status: HTTPResponse.Status
    let data: Data
    var headers = HTTPFields()
    var json: Any? { try? JSONSerialization.jsonObject(with: data) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var errorCode: String? { (object["error"] as? [String: Any])?["code"] as? String }
    var text: String { String(decoding: data, as: UTF8.self) }
}

struct API: Sendable {
    let client: any TestClientProtocol
    let harness: Harness

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ path: String, token: String? = nil, json: Any? = nil, raw: String? = nil,
        contentType: String = "application/json") async throws -> Reply
    {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer? = nil
        if let json {
            headers[.contentType] = contentType
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            headers[.contentType] = contentType
            body = ByteBuffer(string: raw)
        }
        let full = path.hasPrefix("/api") || path.hasPrefix("/healthz") || path.hasPrefix("/metrics") ? path : "/api/v1" + path
        let resp = try await client.execute(uri: full, method: method, headers: headers, body: body)
        let data = Data(resp.body.readableBytesView)
        // Every answer a test receives must match the OpenAPI document.
        for problem in OpenAPICheck.problems(harness.custody, method, full, resp.status, data,
            contentType: resp.headers[.contentType]) { Issue.record("openapi: \(problem)") }
        return Reply(status: resp.status, data: data, headers: resp.headers)
    }

    /// Logs the bootstrap admin in, does the forced password change, returns its token.
    func admin() async throws -> String {
        let initial = try #require(try await harness.custody.identity.bootstrapAdmin())
        let login = try await call(.post, "/auth/login", json: ["username": "admin", "password": initial.reveal()])
        #expect(login.status == .ok)
        #expect(login.object["mustChangePassword"] as? Bool == true)
        let token = try #require(login.object["token"] as? String)
        let blocked = try await call(.get, "/resources", token: token)
        #expect(blocked.status == .forbidden && blocked.errorCode == "password_change_required")
        let changed = try await call(.post, "/auth/password", token: token,
            json: ["currentPassword": initial.reveal(), "newPassword": Self.adminPassword])
        #expect(changed.status == .noContent)
        return token
    }

    static let adminPassword = "Vault-Keeper-2026!"
    static let userPassword = "User-Password-2026!"

    /// Creates a user, logs in, does the forced change; returns the token. Administrators are made by a
    /// second super-administrator (`provisioner`), as two-person control needs: an administrator the
    /// caller made could never approve the caller's work.
    func user(_ name: String, role: String, superAdmin: Bool = false, adminToken: String) async throws -> String {
        let creator = role == "administrator" || superAdmin ? try await provisioner(adminToken) : adminToken
        return try await user(name, role: role, superAdmin: superAdmin, createdBy: creator)
    }

    /// The second super-administrator, made once by the first.
    func provisioner(_ adminToken: String) async throws -> String {
        let login = try await call(.post, "/auth/login", json: ["username": "provisioner", "password": Self.userPassword + "x"])
        if let token = login.object["token"] as? String { return token }
        return try await user("provisioner", role: "administrator", superAdmin: true, createdBy: adminToken)
    }

    /// Creates a user as `createdBy` (who also sets its first password), logs in, does the forced change.
    func user(_ name: String, role: String, superAdmin: Bool = false, createdBy adminToken: String) async throws -> String {
        let created = try await call(.post, "/users", token: adminToken,
            // A random first password that cannot contain the name (a UUID held "ad1" once: refused).
            json: ["username": name, "password": "Initial-\(UUID().uuidString)".replacingOccurrences(of: name, with: "-", options: .caseInsensitive),
                "role": role, "superAdmin": superAdmin])
        #expect(created.status == .created, "create \(name): \(created.text)")
        let uid = try #require(created.object["id"] as? String)
        try await call(.patch, "/users/\(uid)", token: adminToken, json: ["password": Self.userPassword])
        let login = try await call(.post, "/auth/login", json: ["username": name, "password": Self.userPassword])
        let token = try #require(login.object["token"] as? String, "login \(name): \(login.text)")
        let changed = try await call(.post, "/auth/password", token: token,
            json: ["currentPassword": Self.userPassword, "newPassword": Self.userPassword + "x"])
        #expect(changed.status == .noContent, "change \(name): \(changed.text)")
        return token
    }

    /// Polls a rotation or integrity run (`/rotation-runs/ID`, `/integrity-runs/ID`) until it is finished (bounded: 3 min, for
    /// runs whose unreachable resets retry at 10 and 20 s behind another task of the same account, on a loaded machine).
    func finishedRun(_ path: String, token: String) async throws -> [String: Any] {
        for _ in 0..<1800 {
            let r = try await call(.get, path, token: token).object
            if r["state"] as? String == "finished" { return r }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("\(path) did not finish")
        return [:]
    }

    func resource(_ name: String, token: String, type: String = "Linux") async throws -> String {
        let r = try await call(.post, "/resources", token: token, json: ["name": name, "dnsName": "\(name).example.test", "type": type])
        #expect(r.status == .created, "\(r.text)")
        return try #require(r.object["id"] as? String)
    }

    func account(_ rid: String, _ login: String, password: String, token: String) async throws -> String {
        let a = try await call(.post, "/resources/\(rid)/accounts", token: token, json: ["loginName": login, "password": password])
        #expect(a.status == .created, "\(a.text)")
        return try #require(a.object["id"] as? String)
    }
}

/// A wall clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = Date()
    var now: Date { lock.withLock { value } }
    func advance(_ seconds: TimeInterval) { lock.withLock { value += seconds } }
}
