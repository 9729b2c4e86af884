/// Value checks shared by the request bodies.
enum Validate {
    /// A name: 1...200 characters, no control characters, no path separators.
    static func name(_ value: String, field: String, max: Int = 200) throws {
        if let r = recorder { return r.note(field, ["minLength": 1, "maxLength": max, "pattern": namePattern]) }
        guard !value.isEmpty, value.count <= max else {
            throw DomainError.invalid("invalid_field", "field '\(field)' must be 1 to \(max) characters")
        }
        guard value.trimmingWhitespace == value else {
            throw DomainError.invalid("invalid_field", "field '\(field)' must not start or end with spaces")
        }
        try text(value, field: field, max: max)
        if value.contains("/") || value.contains("\\") {
            throw DomainError.invalid("invalid_field", "field '\(field)' must not contain '/' or '\\'")
        }
    }

    /// Free text: bounded, no control characters except tab and newline.
    static func text(_ value: String?, field: String, max: Int = 4000) throws {
        if let r = recorder { return r.note(field, ["maxLength": max, "pattern": textPattern]) }
        guard let value else { return }
        if value.count > max {
            throw DomainError.invalid("invalid_field", "field '\(field)' is longer than \(max) characters")
        }
        if value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t" && $0 != "\n") || $0.value == 0x7f }) {
            throw DomainError.invalid("invalid_field", "field '\(field)' contains control characters")
        }
    }

    static func customFields(_ fields: [String: String]?, field: String = "customFields") throws {
        if let r = recorder {
            return r.note(field, ["maxProperties": 100, "propertyNames": ["minLength": 1, "maxLength": 100, "pattern": namePattern],
                "additionalProperties": ["type": "string", "maxLength": 4000, "pattern": textPattern]])
        }
        guard let fields else { return }
        if fields.count > 100 { throw DomainError.invalid("invalid_field", "at most 100 \(field)") }
        for (k, v) in fields {
            try name(k, field: "\(field) key", max: 100)
            try text(v, field: "\(field).\(k)", max: 4000)
        }
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
