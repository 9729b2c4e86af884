import Crypto
import Foundation

/// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, 30 s steps, 6 digits, the
/// form every authenticator app reads from an `otpauth://` URI.
enum TOTP {
    static let period: Double = 30
    static let digits = 6

    static func step(_ at: Date) -> Int64 { Int64((at.timeIntervalSince1970 / period).rounded(.down)) }

    /// The code of one time step.
    static func code(_ secret: Data, step: Int64, digits: Int = digits) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Data($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let modulo = (0..<digits).reduce(UInt32(1)) { r, _ in r * 10 }
        let text = String(value % modulo)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step `code` belongs to, one step of clock drift either way, and only after `lastStep`
    /// (a code is never accepted twice); nil when it does not match.
    static func verify(_ code: String, _ secret: Data, at: Date, after lastStep: Int64) -> Int64? {
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy(\.isASCII), typed.allSatisfy(\.isNumber) else { return nil }
        let now = step(at)
        for s in [now, now - 1, now + 1] where s > lastStep {
            let expected = Array(Self.code(secret, step: s).utf8), got = Array(typed.utf8)
            if zip(expected, got).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 { return s }
        }
        return nil
    }

    /// RFC 4648 base32 without padding, as authenticator apps take secrets.
    static func base32(_ data: Data) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = "", buffer = 0, bits = 0
        for byte in data {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return out
    }

    /// The `otpauth://` URI an authenticator app imports (by QR code or by hand).
    static func uri(_ secret: Data, username: String, issuer: String = "Custody") -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
        let label = (issuer + ":" + username).addingPercentEncoding(withAllowedCharacters: allowed) ?? username
        return "otpauth://totp/\(label)?secret=\(base32(secret))&issuer=\(issuer)&algorithm=SHA1&digits=\(digits)&period=\(Int(period))"
    }
}
