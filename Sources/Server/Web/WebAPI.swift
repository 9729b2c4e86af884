import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore

/// The console's way to act: it calls the API's own route handler as the signed-in visitor, so
/// a form has exactly the API's validation, authorization and audit.
struct WebAPI: Sendable {
    let table: RouteTable

    /// An API answer: status and the decoded JSON (a dictionary, an array, or nil).
    struct Reply: @unchecked Sendable {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let json: Any?
        let body: [UInt8]
        var object: [String: Any] { json as? [String: Any] ?? [:] }
        var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    }

    /// Calls `method template` (e.g. `PUT /resources/:rid/shares`) with `params` filled in, as `p`.
    /// API errors are thrown as they are (the console renders them).
    func call(_ method: HTTPRequest.Method, _ template: String, _ params: [String: String] = [:], query: [String: String] = [:],
        json: Any? = nil, authority: String = "localhost", as p: Principal, _ ctx: AppContext) async throws -> Reply
    {
        guard let handler = table.handlers["\(method.rawValue) \(template)"] else { throw WebError("no API route \(method) \(template)") }
        var path = template
        for (k, v) in params {
            path = path.replacingOccurrences(of: ":" + k, with: v.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? v)
        }
        if !query.isEmpty {
            var c = URLComponents()
            c.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            path += "?" + (c.percentEncodedQuery ?? "")
        }
        var headers = HTTPFields()
        var body = ByteBuffer()
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        }
        var request = Request(head: HTTPRequest(method: method, scheme: "https", authority: authority, path: table.prefix + path,
            headerFields: headers), body: RequestBody(buffer: body))
        var context = ctx
        context.principal = p
        context.coreContext.parameters = Parameters(params.map { (key: Substring($0.key), value: Substring($0.value)) })
        let response: Response
        do {
            response = try await handler(&request, context)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            // As the API's ErrorMiddleware answers it.
            throw APIError.conflict("the change conflicts with existing data (a duplicate name or a missing reference)")
        }
        let collector = Collector()
        try await response.body.write(collector)
        let bytes = collector.box.bytes
        let decoded = bytes.isEmpty ? nil : try? JSONSerialization.jsonObject(with: Data(bytes))
        return Reply(status: response.status, headers: response.headers, json: decoded, body: bytes)
    }

    /// Gathers a response body in memory.
    final class Box: @unchecked Sendable { var bytes: [UInt8] = [] }
    struct Collector: ResponseBodyWriter {
        let box = Box()
        mutating func write(_ buffer: ByteBuffer) async throws { box.bytes += buffer.readableBytesView }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
