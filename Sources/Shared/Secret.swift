import Foundation

/// A password or other credential. Every textual form of it is redacted; the value
/// is reached only through `reveal()`, so a leak has to be written on purpose.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String

    public init(_ value: String) { self.value = value }

    /// The clear text. Call it only where the secret must leave the process.
    public func reveal() -> String { value }

    public var isEmpty: Bool { value.isEmpty }
    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }

    /// Replaces every occurrence of the given secrets in `text` with `<redacted>`.
    public static func redact(_ text: String, _ secrets: [Secret]) -> String {
        var out = text
        for s in secrets where !s.value.isEmpty {
            out = out.replacingOccurrences(of: s.value, with: "<redacted>")
        }
        return out
    }
}


/// On the wire a secret is written in clear only when the encoder opts in with
/// `userInfo[Secret.revealKey] = true` (agent and plugin messages); any other encoding
/// (a log, a debug dump) gets `<redacted>`.
extension Secret: Codable {
    public static let revealKey = CodingUserInfoKey(rawValue: "custody.secret.reveal")!

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        if text == "<redacted>" {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a redacted secret cannot be read back")
        }
        self.init(text)
    }

    /// Without the opt-in this throws, so a secret can never silently become the text `<redacted>`.
    public func encode(to encoder: any Encoder) throws {
        guard encoder.userInfo[Secret.revealKey] as? Bool == true else {
            throw EncodingError.invalidValue(self, .init(codingPath: encoder.codingPath,
                debugDescription: "secrets are encoded only with userInfo[Secret.revealKey] = true"))
        }
        var c = encoder.singleValueContainer()
        try c.encode(value)
    }
}
