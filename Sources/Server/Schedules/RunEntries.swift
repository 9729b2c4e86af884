import Foundation

/// A run's entries as stored (the JSON `JSONEncoder` wrote: an array of flat objects of strings and
/// nulls), read by hand: `JSONDecoder` took a fifth of a run list's time. Anything else, such as a
/// `\u` escape, a number or an unknown key, goes to `JSONDecoder`, which decides.
enum RunEntries {
    static func decode(_ json: String) throws -> [RotationRunRecord.Entry] {
        if let fast = read(json) { return fast }
        return try JSONDecoder.api.decode([RotationRunRecord.Entry].self, from: Data(json.utf8))
    }

    /// The entries read by hand; nil for what only `JSONDecoder` reads (or refuses).
    static func read(_ json: String) -> [RotationRunRecord.Entry]? {
        var text = json
        return text.withUTF8 { bytes in
            var r = Reader(bytes: bytes)
            return r.entries()
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0
        static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")

        mutating func entries() -> [RotationRunRecord.Entry]? {
            guard eat("[") else { return nil }
            var out: [RotationRunRecord.Entry] = []
            if eat("]") { return end() ? out : nil }
            repeat {
                guard let e = entry() else { return nil }
                out.append(e)
            } while eat(",")
            return eat("]") && end() ? out : nil
        }

        private mutating func entry() -> RotationRunRecord.Entry? {
            guard eat("{") else { return nil }
            var fields: [String: String?] = [:]
            if !eat("}") {
                repeat {
                    guard let k = string(), eat(":"), fields[k] == nil else { return nil }
                    if literal("null") {
                        fields[k] = .some(nil)
                    } else if let v = string() {
                        fields[k] = .some(v)
                    } else {
                        return nil
                    }
                } while eat(",")
                guard eat("}") else { return nil }
            }
            let known: Set<String> = ["resourceId", "accountId", "resource", "account", "taskId", "skipped"]
            guard fields.keys.allSatisfy(known.contains), let rid = fields["resourceId"] ?? nil, let aid = fields["accountId"] ?? nil,
                let r = fields["resource"] ?? nil, let a = fields["account"] ?? nil
            else { return nil }
            return RotationRunRecord.Entry(resourceId: rid, accountId: aid, resource: r, account: a, taskId: fields["taskId"] ?? nil,
                skipped: fields["skipped"] ?? nil)
        }

        /// A string without `\u` escapes (those go to `JSONDecoder`).
        private mutating func string() -> String? {
            guard eat("\"") else { return nil }
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                switch c {
                case Self.quote: return String(validating: out, as: UTF8.self)
                case 0..<0x20: return nil
                case Self.backslash:
                    guard i < bytes.count else { return nil }
                    let e = bytes[i]
                    i += 1
                    switch e {
                    case Self.quote, Self.backslash, UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    default: return nil
                    }
                default: out.append(c)
                }
            }
            return nil
        }

        private mutating func space() {
            while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 }
        }

        private mutating func eat(_ c: Unicode.Scalar) -> Bool {
            space()
            guard i < bytes.count, bytes[i] == UInt8(ascii: c) else { return false }
            i += 1
            return true
        }

        private mutating func literal(_ word: StaticString) -> Bool {
            space()
            let n = word.utf8CodeUnitCount
            guard i + n <= bytes.count, UnsafeBufferPointer(start: word.utf8Start, count: n).elementsEqual(bytes[i..<i + n]) else { return false }
            i += n
            return true
        }

        private mutating func end() -> Bool {
            space()
            return i == bytes.count
        }
    }
}
