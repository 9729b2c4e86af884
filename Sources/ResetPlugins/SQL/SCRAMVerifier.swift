import Crypto
import Foundation
import Shared

/// A PostgreSQL SCRAM-SHA-256 verifier (RFC 5802 / 7677), computed here so that `ALTER ROLE`
/// carries `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` and never the password.
public enum SCRAMVerifier {
    public static func make(_ password: Secret, salt: [UInt8] = randomSalt(), iterations: Int = 4096) -> String {
        let key = saltedPassword(Array(prepare(password.reveal()).utf8), salt: salt, iterations: iterations)
        let clientKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Client Key".utf8), using: SymmetricKey(data: key)))
        let storedKey = Array(SHA256.hash(data: clientKey))
        let serverKey = Array(HMAC<SHA256>.authenticationCode(for: Array("Server Key".utf8), using: SymmetricKey(data: key)))
        func b64(_ b: [UInt8]) -> String { Data(b).base64EncodedString() }
        return "SCRAM-SHA-256$\(iterations):\(b64(salt))$\(b64(storedKey)):\(b64(serverKey))"
    }

    public static func randomSalt() -> [UInt8] { (0..<16).map { _ in UInt8.random(in: 0...255) } }

    /// PBKDF2-HMAC-SHA256 with one output block (32 bytes).
    static func saltedPassword(_ password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var u = Array(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var out = u
        for _ in 1..<iterations {
            u = Array(HMAC<SHA256>.authenticationCode(for: u, using: key))
            for i in out.indices { out[i] ^= u[i] }
        }
        return out
    }

    /// SASLprep as PostgreSQL applies it (RFC 4013): non-ASCII spaces become spaces, "mapped to
    /// nothing" characters go, then NFKC. A password with prohibited characters is used as is,
    /// which is also what the server does.
    static func prepare(_ password: String) -> String {
        guard !password.unicodeScalars.allSatisfy(\.isASCII) else { return password }
        let nothing = Set<UInt32>([0x00AD, 0x034F, 0x1806, 0x180B, 0x180C, 0x180D, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
            .union(0xFE00...0xFE0F)
        let spaces = Set<UInt32>([0x00A0, 0x1680, 0x202F, 0x205F, 0x3000]).union(0x2000...0x200B)
        var mapped = String.UnicodeScalarView()
        for s in password.unicodeScalars {
            if nothing.contains(s.value) && s.value != 0x200B { continue }
            mapped.append(spaces.contains(s.value) ? " " : s)
        }
        let normalized = String(mapped).precomposedStringWithCompatibilityMapping
        let prohibited = normalized.unicodeScalars.contains {
            $0.value < 0x20 || $0.value == 0x7F || (0x80...0x9F).contains($0.value) || (0xE000...0xF8FF).contains($0.value)
                || (0xFFF9...0xFFFD).contains($0.value) || (0xD800...0xDFFF).contains($0.value)
        }
        return prohibited ? password : normalized
    }
}
