import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import Mustache

/// The browser console under `/`: server-rendered Mustache pages (package resources) on the
/// same store, the same `Authorizer` and the same sessions as the API under `/api/v1`.
struct WebConsole: Sendable {
    let custody: Custody
    let templates: MustacheLibrary
    let csrfKey = SymmetricKey(size: .bits256)
    let staticDir: String

    /// A signed-in page request: who, and the CSRF token its forms carry.
    struct Visitor: Sendable {
        let principal: Principal
        let csrf: String
        let token: String
        /// The visitor's queued and running tasks, for the badge on "My tasks".
        var activeTasks = 0
        /// Access requests waiting for the visitor's approval, for the badge on "Approvals".
        var awaiting = 0
    }

    init(custody: Custody) throws {
        guard let dir = Self.resourceDirectory() else { throw WebError("the console's templates were not found beside the binary") }
        var library = MustacheLibrary()
        for file in try FileManager.default.contentsOfDirectory(atPath: dir + "/Templates") where file.hasSuffix(".mustache") {
            try library.register(try String(contentsOfFile: dir + "/Templates/" + file, encoding: .utf8), named: String(file.dropLast(9)))
        }
        self.custody = custody
        self.templates = library
        self.staticDir = dir + "/Static"
    }

    /// `Console/` in the resource bundle beside the executable, or in the source tree.
    static func resourceDirectory() -> String? {
        let exeDir = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent().path
        return [Bundle.main.bundleURL.path + "/Custody_Server.resources/Console", exeDir + "/Custody_Server.resources/Console",
            "/usr/share/custody/console", URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Console",
        ].first { FileManager.default.fileExists(atPath: $0 + "/Templates/layout-top.mustache") }
    }

    func register(_ router: Router<AppContext>) {
        let web = router.group().add(middleware: WebHeadersMiddleware())
        web.get("/") { _, _ in Self.redirect("/home") }
        web.get("/static/:file") { _, ctx in try self.asset(ctx.parameters.require("file")) }
        auth(web)
        home(web)
        reports(web)
        accounts(web)
        manage(web)
        resetConfig(web)
        admin(web)
        groups(web)
        users(web)
        totp(web)
        resources(web)
        tasks(web)
        audit(web)
        access(web)
    }

    /// The signed-in visitor, or nil (no cookie, unknown or revoked console session, idle too long).
    func visitor(_ request: Request) async throws -> Visitor? {
        guard let token = WebForm.cookies(request)[WebForm.sessionCookie], token.count <= 200,
            let p = try await custody.identity.authenticate(token: token, kinds: [.web]),
            try await custody.identity.touchWebSession(p, idleMinutes: custody.config.webIdleMinutes)
        else { return nil }
        let active = try await custody.engine.store.activeCount(requestedBy: p.userID)
        let awaiting = try await custody.access.awaitingCount(by: p)
        return Visitor(principal: p, csrf: WebForm.csrf(for: token, key: csrfKey), token: token, activeTasks: active, awaiting: awaiting)
    }

    /// Runs a signed-in page: to the login page without a session, to the password page while a
    /// change is due, and API errors (403, 404, 400) as an error page with their message.
    func page(_ request: Request, allowMustChange: Bool = false, _ body: (Visitor) async throws -> Response) async throws -> Response {
        guard let v = try await visitor(request) else { return Self.redirect("/login") }
        if v.principal.mustChangePassword && !allowMustChange { return Self.redirect("/password") }
        do {
            return try await body(v)
        } catch let e as any APIFailure {
            return try render("error", ["status": "\(e.status.code)", "message": e.message, "nav": nav(v)], status: e.status)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
            return try render("error", ["status": "409", "message": Self.constraintMessage, "nav": nav(v)], status: .conflict)
        } catch let denied as Authorizer.Denied {
            return try render("error", ["status": "403", "message": denied.reason, "nav": nav(v)], status: .forbidden)
        }
    }

    /// A POST's form, refused (403, nothing done) unless its CSRF token is the session's.
    func form(_ request: Request, _ v: Visitor) async throws -> [String: String] {
        let f = try await WebForm.parse(request, limit: custody.config.maxBodyBytes)
        guard WebForm.equal(f["_csrf"] ?? "", v.csrf) else { throw APIError(.forbidden, "csrf", "the form is stale or forged; reload the page") }
        return f
    }

    /// A form's API call: done → `redirect`; refused for its input (400, 409) → `back` with the
    /// message by the field it names (`errors.NAME_FIELD`, for a field in `fields`), else by the
    /// form named `name`; anything else → the error page.
    func attempt(_ name: String, fields: Set<String> = [], redirect: @autoclosure () -> String,
        back: ([String: String], HTTPResponse.Status) async throws -> Response, _ call: () async throws -> String?) async throws -> Response
    {
        do {
            return Self.redirect(try await call() ?? redirect())
        } catch let e as any APIFailure where e.status == .badRequest || e.status == .conflict {
            let field = Self.field(of: e, default: "")
            return try await back([fields.contains(field) ? name + "_" + field : name: e.message], e.status)
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CONSTRAINT {
            // As the API's ErrorMiddleware answers it.
            return try await back([name: Self.constraintMessage], .conflict)
        }
    }

    /// A form that is only a button: POST `path` (CSRF checked) calls `action` as the visitor with
    /// the path's parameters, then redirects where it says.
    func button(_ web: RouterGroup<AppContext>, _ path: String,
        action: @escaping @Sendable ([String: String], Visitor, AppContext) async throws -> String)
    {
        web.post(RouterPath(path)) { request, ctx in
            try await page(request) { v in
                _ = try await form(request, v)
                var params: [String: String] = [:]
                for part in path.split(separator: "/") where part.hasPrefix(":") {
                    params[String(part.dropFirst())] = try ctx.parameters.require(String(part.dropFirst()))
                }
                return Self.redirect(try await action(params, v, ctx))
            }
        }
    }

    func render(_ template: String, _ values: [String: Any], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) throws
        -> Response
    {
        guard let html = templates.render(values, withTemplate: template) else { throw WebError("no template \(template)") }
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The navigation bar's values.
    func nav(_ v: Visitor) -> [String: Any] {
        let role = v.principal.role
        var values: [String: Any] = ["username": v.principal.username, "role": role.rawValue, "csrf": v.csrf, "admin": role == .administrator,
            "auditor": role == .administrator || role == .passwordAuditor,
            // What the role may ever do: buttons it could never use are not shown.
            "canCreateResource": Authorizer.roleAllows(role, .createResource)]
        if v.activeTasks > 0 { values["activeTasks"] = "\(v.activeTasks)" }
        if v.awaiting > 0 { values["awaiting"] = "\(v.awaiting)" }
        return values
    }

    static func redirect(_ to: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.location] = to
        return Response(status: .seeOther, headers: headers)
    }

    /// CSS and JavaScript, by exact name only.
    func asset(_ name: String) throws -> Response {
        let types = ["console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8"]
        guard let type = types[name], let data = FileManager.default.contents(atPath: staticDir + "/" + name) else {
            throw APIError.notFound("file")
        }
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "public, max-age=3600"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static let constraintMessage = "the change conflicts with existing data (a duplicate name or a missing reference)"
}

struct WebError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
