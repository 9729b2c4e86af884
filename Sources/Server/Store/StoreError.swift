import Foundation

/// A store that cannot read what it holds (a value outside its type), or refuses a request.
struct StoreError: Error, CustomStringConvertible {
    /// `takenOver`: a run's write for a task that is no longer its node's (the cluster's fence).
    enum Code: String, Sendable { case corruptValue, notFound, conflict, takenOver }
    var code: Code
    var message: String
    var description: String { "\(code.rawValue): \(message)" }

    /// A stored enum's raw value read back as its type.
    static func decode<E: RawRepresentable>(_ type: E.Type, _ raw: E.RawValue) throws -> E {
        guard let v = E(rawValue: raw) else { throw StoreError(code: .corruptValue, message: "\(raw) is not a \(E.self)") }
        return v
    }
}

/// The database cannot be reached (a shared store's server down, restarting, or out of
/// connections). A read decided nothing; a write whose COMMIT lost its answer may have been made.
/// The API answers 503; a task's run leaves the task for recovery, which reads what is stored.
struct StoreUnavailable: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { "the database cannot be reached: \(message)" }
}
