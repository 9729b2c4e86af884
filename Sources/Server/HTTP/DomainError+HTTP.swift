import HTTPTypes
import Hummingbird

/// The one place a domain error's kind becomes an HTTP status; the body is the API's error shape.
extension DomainError: HTTPResponseError, APIFailure {
    var status: HTTPResponse.Status {
        switch kind {
        case .invalidInput: .badRequest
        case .unauthenticated: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .tooManyAttempts: .tooManyRequests
        case .tooLarge: .contentTooLarge
        case .unavailable: .serviceUnavailable
        case .internal: .internalServerError
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIError(status, code, message, retryAfter: retryAfter).response(from: request, context: context)
    }
}

/// An error the API answers with a status, a code and a message: an `APIError` raised by a route
/// or a `DomainError` from below. The console shows either the same way.
protocol APIFailure: Error {
    var status: HTTPResponse.Status { get }
    var code: String { get }
    var message: String { get }
}

extension APIError: APIFailure {}
