import Hummingbird

/// Route groups, each in a `Routes+Area.swift` file.
struct Routes: Sendable {
    let custody: Custody
}

extension Authorizer.Denied: HTTPResponseError {
    var status: HTTPResponse.Status { .forbidden }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIError.forbidden(reason).response(from: request, context: context)
    }
}
