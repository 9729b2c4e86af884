import Foundation
import HummingbirdOTP

/// Time-based one-time passwords (RFC 6238): HMAC-SHA1, 30 s steps, 6 digits, computed by
/// HummingbirdOTP. Its key is a string's UTF-8 bytes, so our secrets are random base32 text.
enum TOTP {
    static let period: Double = 30
    static let digits = 6

    static func step(_ at: Date) -> Int64 { Int64((at.timeIntervalSince1970 / period).rounded(.down)) }

    /// A new secret: 32 random characters of the base32 alphabet (160 bits).
    static func newSecret() -> Data {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)
        var rng = SystemRandomNumberGenerator()
        return Data((0..<32).map { _ in alphabet[Int.random(in: 0..<32, using: &rng)] })
    }

    static func generator(_ secret: Data, digits: Int = digits) -> HummingbirdOTP.TOTP {
        HummingbirdOTP.TOTP(secret: String(decoding: secret, as: UTF8.self), length: digits, timeStep: Int(period))
    }

    /// The code of one time step, with its leading zeros.
    static func code(_ secret: Data, step: Int64, digits: Int = digits) -> String {
        let n = generator(secret, digits: digits).compute(date: Date(timeIntervalSince1970: Double(step) * period))
        let text = String(n)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The step `code` belongs to, one step of clock drift either way, and only after `lastStep`
    /// (a code is never accepted twice); nil when it does not match.
    static func verify(_ code: String, _ secret: Data, at: Date, after lastStep: Int64) -> Int64? {
        let typed = code.filter { !$0.isWhitespace }
        guard typed.count == digits, typed.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = step(at)
        for s in [now, now - 1, now + 1] where s > lastStep {
            let expected = Array(Self.code(secret, step: s).utf8), got = Array(typed.utf8)
            if zip(expected, got).reduce(0, { $0 | ($1.0 ^ $1.1) }) == 0 { return s }
        }
        return nil
    }

    /// The `otpauth://` URI an authenticator app imports (by QR code or by hand).
    static func uri(_ secret: Data, username: String) -> String {
        generator(secret).createAuthenticatorURL(label: "Custody:" + username, issuer: "Custody")
    }

    /// The key to type into an app: the URI's base32 `secret`.
    static func key(_ secret: Data) -> String {
        URLComponents(string: uri(secret, username: "x"))?.queryItems?.first { $0.name == "secret" }?.value ?? ""
    }
}
