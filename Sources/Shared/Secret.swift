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

    /// Replaces every occurrence of the given secrets in `text` with `<redacted>`, in the forms a
    /// program's output may hold them: as is, JSON-escaped, and shell-quoted.
    public static func redact(_ text: String, _ secrets: [Secret]) -> String {
        var out = text
        let forms = secrets.filter { !$0.value.isEmpty }.flatMap(\.forms).sorted { $0.count > $1.count }
        for form in forms { out = out.replacingOccurrences(of: form, with: "<redacted>") }
        return out
    }

    /// Redacts a text that was cut short: its last characters may hold the start of a secret, so
    /// as many characters as the longest secret are dropped from the end too.
    public static func redact(cut text: String, _ secrets: [Secret]) -> String {
        let longest = secrets.flatMap(\.forms).map(\.count).max() ?? 0
        return redact(String(text.dropLast(longest)), secrets) + "…"
    }

    private var forms: [String] {
        var out: Set<String> = [value, value.replacingOccurrences(of: "'", with: "'\\''")]
        if let data = try? JSONSerialization.data(withJSONObject: [value]), let json = String(data: data, encoding: .utf8),
            json.count >= 4
        {
            let escaped = String(json.dropFirst(2).dropLast(2))
            out.insert(escaped)
            out.insert(escaped.replacingOccurrences(of: "\\/", with: "/"))
        }
        return Array(out)
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
