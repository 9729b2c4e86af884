import Hummingbird
import GRDB

/// Resolves the bearer token to a caller; while the caller must change its password, only
/// the password change and logout are allowed.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AppContext
    let custody: Custody
    let allowedWhileMustChange: Set<String>

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw APIError.unauthorized
        }
        let token = String(header.dropFirst("Bearer ".count)).trimmingWhitespace
        guard token.count <= 200, let principal = try await custody.identity.authenticate(token: token) else {
            throw APIError(.unauthorized, "invalid_token", "the token is unknown, expired or revoked")
        }
        if principal.mustChangePassword && !allowedWhileMustChange.contains(request.uri.path) {
            throw APIError(.forbidden, "password_change_required", "change your password first (POST /api/v1/auth/password)")
        }
        var context = context
        context.principal = principal
        return try await next(request, context)
    }
}

/// One log line per request: method, path without the query, status, duration, caller.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = AppContext

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: Int) {
            let ms = (ContinuousClock.now - start).components.attoseconds / 1_000_000_000_000_000
                + (ContinuousClock.now - start).components.seconds * 1000
            context.logger.info("request", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "status": "\(status)",
                "ms": "\(ms)", "ip": "\(context.remoteIP)",
            ])
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch let error as HTTPResponseError {
            log(error.status.code)
            throw error
        } catch {
            log(500)
            throw error
        }
    }
}

/// Turns unexpected errors into the API's error shape without their details.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = AppContext

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        // An id is compared whole: SQLite would read a bound text only up to a NUL (`%00`).
        guard let path = request.uri.path.percentDecoded else {
            throw APIError.badRequest("invalid_path", "the path has an invalid percent escape")
        }
        if path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw APIError.badRequest("invalid_path", "the path contains control characters")
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            // The router's own errors (unknown route, wrong method) in the API's error shape.
            let code = error.status == .notFound ? "not_found" : error.status == .methodNotAllowed ? "method_not_allowed" : "http_error"
            throw APIError(error.status, code, error.status.reasonPhrase)
        } catch let error as HTTPResponseError {
            throw error
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
            throw APIError.conflict("the change conflicts with existing data (a duplicate name or a missing reference)")
        } catch let error as StoreUnavailable {
            // A change whose commit lost its answer may have been made: the client checks, then retries.
            context.logger.warning("the database cannot be reached", metadata: ["error": "\(error.message)"])
            throw APIError(.serviceUnavailable, "store_unavailable",
                "the database cannot be reached; a change this request made may or may not have been saved: check, then try again")
        } catch {
            context.logger.error("internal error", metadata: ["type": "\(type(of: error))"])
            throw APIError(.internalServerError, "internal_error", "internal error")
        }
    }
}
