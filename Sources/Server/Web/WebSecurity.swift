import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Headers on every console response: a strict CSP (no inline script), no framing, no sniffing,
/// no referrer, and no caching (pages may show secrets).
struct WebHeadersMiddleware: RouterMiddleware {
    typealias Context = AppContext
    static let csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPResponseError {
            // Refusals thrown past the pages (an unknown file, a router error) get the headers too.
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = Self.csp
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000"
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
            response.headers[HTTPField.Name("Pragma")!] = "no-cache"
        }
        return response
    }
}

/// Cookies, CSRF tokens and form bodies of the console.
enum WebForm {
    /// `__Host-`: the browser takes them only from this exact host, over HTTPS, for the whole path.
    static let sessionCookie = "__Host-custody_session"
    static let loginCookie = "__Host-custody_login_csrf"

    /// `Secure; HttpOnly; SameSite=Strict`, for the whole console.
    static func cookie(_ name: String, _ value: String, maxAge: Int? = nil) -> String {
        "\(name)=\(value); Path=/; Secure; HttpOnly; SameSite=Strict" + (maxAge.map { "; Max-Age=\($0)" } ?? "")
    }

    static func cookies(_ request: Request) -> [String: String] {
        var out: [String: String] = [:]
        for field in request.headers[values: .cookie] {
            for part in field.split(separator: ";") {
                let kv = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                // A name sent twice (a cookie planted by a sibling host) is not trusted.
                if kv.count == 2 { out[kv[0]] = out[kv[0]] == nil ? kv[1] : "" }
            }
        }
        return out
    }

    /// The CSRF token of a session: an HMAC of its token under a key that never leaves the process.
    static func csrf(for sessionToken: String, key: SymmetricKey) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(("csrf:" + sessionToken).utf8), using: key)).hexString
    }

    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func random() -> String {
        (0..<32).map { _ in UInt8.random(in: 0...255) }.hexString
    }

    /// An `application/x-www-form-urlencoded` body.
    static func parse(_ request: Request, limit: Int) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: limit)
        var out: [String: String] = [:]
        for pair in String(buffer: buffer).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if let k = kv.first, !k.isEmpty { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }
}
