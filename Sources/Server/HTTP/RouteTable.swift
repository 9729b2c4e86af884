import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Registers routes on the router and records each one for the OpenAPI document.
final class RouteTable: @unchecked Sendable {
    struct Entry: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let summary: String
        let bodyFields: [String]
        let requiredFields: [String]
        let authenticated: Bool
        var body: BodyType? = nil
        var response: ResponseShape = .unspecified
        var query: [QueryParam] = []
        /// A body that is not JSON: its media type (the CSV import).
        var rawBody: String? = nil
    }

    /// A request body's type, for its schema.
    struct BodyType: @unchecked Sendable {
        let type: any APIBody.Type
    }

    typealias Handler = @Sendable (inout Request, AppContext) async throws -> Response

    private(set) var entries: [Entry] = []
    private let open: RouterGroup<AppContext>
    private let secured: RouterGroup<AppContext>
    let prefix: String

    init(open: RouterGroup<AppContext>, secured: RouterGroup<AppContext>, prefix: String) {
        self.open = open
        self.secured = secured
        self.prefix = prefix
    }

    func add(
        _ method: HTTPRequest.Method, _ path: String, _ summary: String, body: (any APIBody.Type)? = nil,
        response: ResponseShape = .unspecified, query: [QueryParam] = [], rawBody: String? = nil, authenticated: Bool = true,
        _ handler: @escaping Handler
    ) {
        entries.append(Entry(method: method, path: prefix + path, summary: summary, bodyFields: body?.fields ?? [],
            requiredFields: body?.required ?? [], authenticated: authenticated, body: body.map(BodyType.init), response: response, query: query,
            rawBody: rawBody))
        let group = authenticated ? secured : open
        group.on(RouterPath(path), method: method) { request, context in
            // Validators only record (OpenAPI) under a recorder: never while a request is served.
            try await Validate.$recorder.withValue(nil) {
                var request = request
                return try await handler(&request, context)
            }
        }
    }
}

/// JSON responses.
enum Reply {
    static func json<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONEncoder.api.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}

extension AppContext {
    /// A path parameter that must be present (the router guarantees it for matched routes),
    /// percent-decoded (a listener may be named in the path).
    func param(_ name: String) throws -> String {
        guard let v = parameters.get(name) else { throw APIError.badRequest("missing_parameter", "missing \(name)") }
        return v.percentDecoded ?? v
    }
}
