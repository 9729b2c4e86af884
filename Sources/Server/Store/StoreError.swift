import Foundation

/// A store that cannot read what it holds (a value outside its type), or refuses a request.
struct StoreError: Error, CustomStringConvertible {
    enum Code: String, Sendable { case corruptValue, notFound, conflict }
    var code: Code
    var message: String
    var description: String { "\(code.rawValue): \(message)" }

    /// A stored enum's raw value read back as its type.
    static func decode<E: RawRepresentable>(_ type: E.Type, _ raw: E.RawValue) throws -> E {
        guard let v = E(rawValue: raw) else { throw StoreError(code: .corruptValue, message: "\(raw) is not a \(E.self)") }
        return v
    }
}
