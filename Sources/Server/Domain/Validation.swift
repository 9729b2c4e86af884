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

extension Validate {
    /// A list of `range` entries (`what` names them in the error).
    static func count(_ n: Int, field: String, in range: ClosedRange<Int>, what: String) throws {
        if let r = recorder { return r.note(field, ["minItems": range.lowerBound, "maxItems": range.upperBound]) }
        guard range.contains(n) else {
            throw DomainError.invalid("invalid_field", "field '\(field)' must name \(range.lowerBound) to \(range.upperBound) \(what)")
        }
    }

    /// A whole number in `range`.
    static func number(_ n: Int?, field: String, in range: ClosedRange<Int>) throws {
        if let r = recorder { return r.note(field, ["minimum": range.lowerBound, "maximum": range.upperBound]) }
        guard let n else { return }
        guard range.contains(n) else {
            throw DomainError.invalid("invalid_field", "field '\(field)' must be \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// One of `words`.
    static func word(_ value: String?, field: String, in words: [String]) throws {
        if let r = recorder { return r.note(field, ["enum": words]) }
        guard let value else { return }
        guard words.contains(value) else {
            throw DomainError.invalid("invalid_field", "field '\(field)' must be one of \(words.joined(separator: ", "))")
        }
    }

    /// A host name or address as a setting names it: 1...253 characters, no white space.
    static let hostPattern = "^[^\\s]{1,253}$"
    static func host(_ value: String, field: String) throws {
        if let r = recorder { return r.note(field, ["minLength": 1, "maxLength": 253, "pattern": hostPattern]) }
        guard !value.isEmpty, value.count <= 253, !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F })
        else { throw DomainError.invalid("invalid_field", "\(field) is not a host name") }
    }

    /// An e-mail address: one '@', at most 254 characters, no white space or <>,;".
    static let emailPattern = "^[^\\s<>,;\"@\\u0000-\\u001f\\u007f]+@[^\\s<>,;\"\\u0000-\\u001f\\u007f]+$"
    static func email(_ value: String, field: String) throws {
        if let r = recorder { return r.note(field, ["maxLength": 254, "pattern": emailPattern]) }
        // ICU's `$` also matches before a final line break: white space is refused by scalar first.
        guard value.count <= 254, !value.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }),
            value.range(of: emailPattern, options: .regularExpression) != nil
        else { throw DomainError.invalid("invalid_field", "\(field): '\(value)' is not an email address") }
    }

    /// Text that says something: a character other than white space, and no control characters
    /// but tab and newline.
    static let saysSomethingPattern = "^(?=[\\s\\S]*\\S)[^\\u0000-\\u0008\\u000B-\\u001F\\u007F]*$"

    /// A time of day, HH:MM on a 24-hour clock.
    static let clockPattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    static func clock(_ value: String?, field: String) throws {
        if let r = recorder { return r.note(field, ["pattern": clockPattern]) }
        guard let value else { return }
        guard RotationSchedule.minutes(value) != nil, value.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ":") }) else {
            throw DomainError.invalid("invalid_field", "\(field) must be HH:MM (24 h)")
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
