import Foundation

/// What the validators would check, written down instead of checked: run a body's `validate()`
/// under `Validate.$recorder` and each field's limits come out as JSON Schema keywords, so the
/// OpenAPI document states the limits the server enforces.
final class ValidationRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var all: [String: [String: Any]] = [:]

    func note(_ field: String, _ keywords: [String: Any]) {
        lock.withLock { all[field, default: [:]].merge(keywords) { _, new in new } }
    }

    var fields: [String: [String: Any]] { lock.withLock { all } }
}

extension Validate {
    @TaskLocal static var recorder: ValidationRecorder?

    /// Free text: no control characters but tab and newline.
    static let textPattern = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F]*$"
    /// A name: no control characters, no '/' or '\', no space at either end.
    static let namePattern = "^(?![\\s])[^\\u0000-\\u001F\\u007F/\\\\]*(?<![\\s])$"

    /// The limits the validators give the fields of `body` (a sample decoded by `SchemaDecoder`).
    static func limits(of body: any APIBody) -> [String: [String: Any]] {
        let r = ValidationRecorder()
        $recorder.withValue(r) { try? body.validate() }
        return r.fields
    }
}
