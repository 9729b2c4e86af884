import Foundation

/// A subject and a body with `{{placeholder}}`s; unknown placeholders are refused when saved.
struct NotificationTemplate: Codable, Sendable, Equatable, APIBody {
    var subject: String
    var body: String

    static let fields = ["subject", "body"]
    static let required = ["subject", "body"]
    static let placeholders: Set<String> = [
        "event", "time", "user", "ip", "status", "resource", "account", "group", "reason", "message", "report", "run", "runAt",
        "listener", "server", "accessURL",
    ]

    func validate() throws {
        if let r = Validate.recorder {
            r.note("subject", ["minLength": 1, "maxLength": 500, "pattern": "\\S"])
            return r.note("body", ["maxLength": 20_000])
        }
        guard !subject.trimmingCharacters(in: .whitespaces).isEmpty, subject.count <= 500 else {
            throw DomainError.invalid("invalid_field", "subject must be 1 to 500 characters")
        }
        guard body.count <= 20_000 else { throw DomainError.invalid("invalid_field", "body is longer than 20,000 characters") }
        let unknown = Self.names(in: subject + body).subtracting(Self.placeholders)
        if !unknown.isEmpty {
            throw DomainError.invalid("unknown_placeholder",
                "unknown placeholder(s): \(unknown.sorted().joined(separator: ", ")); known: \(Self.placeholders.sorted().joined(separator: ", "))")
        }
    }

    static func names(in text: String) -> Set<String> {
        var out: Set<String> = []
        var rest = text[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            out.insert(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return out
    }

    /// Each placeholder replaced; an empty line left by an empty value is dropped.
    func render(_ values: [String: String]) -> (subject: String, body: String) {
        func fill(_ text: String) -> String {
            var out = ""
            var rest = text[...]
            while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
                out += rest[..<open.lowerBound]
                out += values[rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)] ?? ""
                rest = rest[close.upperBound...]
            }
            return out + rest
        }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).compactMap { line -> String? in
            let filled = fill(String(line))
            return filled.trimmingCharacters(in: .whitespaces).isEmpty && !line.trimmingCharacters(in: .whitespaces).isEmpty ? nil : filled
        }
        return (fill(subject), lines.joined(separator: "\n"))
    }
}
