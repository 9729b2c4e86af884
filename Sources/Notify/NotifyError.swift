/// Why a notification could not be delivered. The message never holds a password.
public struct NotifyError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable {
        case connect, tls, protocolError, rejected, authentication, timeout, badInput
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
