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

