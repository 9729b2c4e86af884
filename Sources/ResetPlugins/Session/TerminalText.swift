import Foundation

/// Terminal output as text: bytes decoded across reads (an unfinished escape sequence or UTF-8
/// character waits for the next read), ANSI escapes stripped, carriage returns and NULs dropped;
/// backspaces and DEL come out as `\u{08}` for the reader to apply.
struct TerminalText {
    /// Bytes held back: an unfinished escape sequence or UTF-8 character.
    private var carry: [UInt8] = []

    /// The cleaned text of `bytes` (with what was held back); `flush` holds nothing back.
    mutating func decode(_ bytes: [UInt8], flush: Bool = false) -> String {
        var data = carry + bytes
        carry = []
        if !flush {
            if let esc = data.lastIndex(of: 0x1B), !Self.escapeComplete(data[esc...]) {
                carry = Array(data[esc...])
                data.removeSubrange(esc...)
            }
            var i = data.count - 1
            while i >= 0, data.count - i <= 4, data[i] & 0xC0 == 0x80 { i -= 1 }
            if i >= 0, data[i] >= 0xC0 {
                let need = data[i] >= 0xF0 ? 4 : data[i] >= 0xE0 ? 3 : 2
                if data.count - i < need {
                    carry = Array(data[i...]) + carry
                    data.removeSubrange(i...)
                }
            }
        }
        // An escape sequence that never ends is let through rather than held forever.
        if carry.count > 4096 {
            data += carry
            carry = []
        }
        return Self.clean(String(decoding: data, as: UTF8.self))
    }

    /// Whether the escape sequence starting at `seq` (ESC ...) is complete.
    static func escapeComplete(_ seq: ArraySlice<UInt8>) -> Bool {
        let b = Array(seq)
        guard b.count >= 2 else { return false }
        switch b[1] {
        case UInt8(ascii: "["): return b.dropFirst(2).contains { (0x40...0x7E).contains($0) }
        case UInt8(ascii: "]"): return b.contains(0x07)
        default: return true
        }
    }

    /// Strips ANSI escapes and drops carriage returns; backspaces and DEL come out as `\u{08}`
    /// for the reader to apply.
    static func clean(_ text: String) -> String {
        var out: [Character] = []
        var it = Array(text).makeIterator()
        while let c = it.next() {
            switch c {
            case "\u{1B}":
                guard let n = it.next() else { break }
                if n == "[" {
                    while let x = it.next(), !(("@"..."~").contains(x)) {}
                } else if n == "]" {
                    while let x = it.next(), x != "\u{07}" {}
                }
            case "\u{08}", "\u{7F}": out.append("\u{08}")
            case "\r": continue
            case "\r\n": out.append("\n")
            case "\u{00}": continue
            default: out.append(c)
            }
        }
        return String(out)
    }
}
