import Foundation

/// An external plugin's one answer on stdout: `{"ok": true, "message": ...}` or
/// `{"ok": false, "code": ..., "message": ...}`, the code being a `ResetFailure.Code`.
public struct PluginResponse: Codable, Sendable, Equatable {
    public var ok: Bool
    public var code: String?
    public var message: String?

    public init(ok: Bool, code: String? = nil, message: String? = nil) {
        self.ok = ok
        self.code = code
        self.message = message
    }

    public static func success(_ message: String) -> PluginResponse { PluginResponse(ok: true, message: message) }
    public static func failure(_ failure: ResetFailure) -> PluginResponse {
        PluginResponse(ok: false, code: failure.code.rawValue, message: failure.message)
    }

    /// Every code a plugin may answer with.
    public static let codes: Set<ResetFailure.Code> = [.authenticationFailed, .unreachable, .rejectedByTarget,
        .permissionDenied, .promptTimeout, .hostKeyMismatch, .protocolError, .unsupported, .outcomeUnknown]
}

extension ResetJob {
    /// The request as an external plugin reads it: secrets in clear, for that process only.
    public func wireJSON() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.userInfo[Secret.revealKey] = true
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }
}
