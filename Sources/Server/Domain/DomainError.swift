/// What services, stores' callers and input types throw when a request cannot be done: a kind
/// (what went wrong, in the domain's words), a stable code for clients, and a message that names
/// fields and ids, never a secret. Only the HTTP layer turns a kind into a status
/// (`DomainError+HTTP.swift`).
struct DomainError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        /// The input is not acceptable (a field, a name, a value).
        case invalidInput
        /// No valid credentials or session.
        case unauthenticated
        /// The caller may not do this.
        case forbidden
        case notFound
        /// The request contradicts the current state (a duplicate, a race, a state that forbids it).
        case conflict
        /// Too many attempts; `retryAfter` says when to try again.
        case tooManyAttempts
        case tooLarge
        /// Something the server depends on (a directory) did not answer.
        case unavailable
        /// The server could not do what it should have (no detail is given).
        case `internal`
    }

    let kind: Kind
    let code: String
    let message: String
    /// Seconds until a refused attempt may be made again.
    var retryAfter: Int? = nil

    init(_ kind: Kind, _ code: String, _ message: String, retryAfter: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    var description: String { "\(code): \(message)" }

    static func invalid(_ code: String, _ message: String) -> DomainError { DomainError(.invalidInput, code, message) }
    static func notFound(_ what: String) -> DomainError { DomainError(.notFound, "not_found", "\(what) not found") }
    static func forbidden(_ message: String) -> DomainError { DomainError(.forbidden, "forbidden", message) }
    static func conflict(_ message: String) -> DomainError { DomainError(.conflict, "conflict", message) }
    static let unauthenticated = DomainError(.unauthenticated, "unauthorized", "a valid bearer token is required")
}
