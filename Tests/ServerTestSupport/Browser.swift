import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server

/// A browser: keeps cookies, sends forms.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    init(_ client: any TestClientProtocol) { self.client = client }

    struct Page { let status: HTTPResponse.Status; let headers: HTTPFields; let html: String }

    func go(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            body = ByteBuffer(string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&"))
        }
        let r = try await client.execute(uri: path, method: method, headers: headers, body: body)
        for c in r.headers[values: .setCookie] {
            let kv = c.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            if c.contains("Max-Age=0") { cookies[kv[0]] = nil } else if kv.count == 2 { cookies[kv[0]] = kv[1] }
        }
        return Page(status: r.status, headers: r.headers, html: String(buffer: r.body))
    }

    /// The CSRF token in the page's first form.
    static func csrf(_ html: String) -> String {
        guard let r = html.range(of: #"name="_csrf" value="([0-9a-f]+)""#, options: .regularExpression) else { return "" }
        return String(html[r].split(separator: "\"")[3])
    }

    func signIn(_ user: String, _ password: String) async throws -> Page {
        let login = try await go(.get, "/login")
        return try await go(.post, "/login", form: ["_csrf": Self.csrf(login.html), "username": user, "password": password])
    }
}
