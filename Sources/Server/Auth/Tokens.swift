import Crypto
import Foundation
import HummingbirdBcrypt
import NIOConcurrencyHelpers
import NIOPosix

/// Random bearer tokens, stored only as SHA-256 digests.
enum Tokens {
    static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let b64 = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return "cst_" + b64
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hexString
    }
}

/// bcrypt, run on NIO's thread pool so it never blocks the cooperative pool.
enum PasswordHashing {
    static func hash(_ password: String, cost: Int) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: UInt8(cost)) }
    }

    /// With no hash (an unknown user) it still spends one bcrypt, so timing does not tell which names exist.
    static func verify(_ password: String, hash: String?, cost: Int) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.verify(password, hash: dummyHash(cost: cost))
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }

    /// One dummy hash per cost, made once: an unknown user then costs exactly one bcrypt, like a known one.
    private static let dummies = NIOLockedValueBox<[Int: String]>([:])
    private static func dummyHash(cost: Int) -> String {
        if let h = dummies.withLockedValue({ $0[cost] }) { return h }
        let h = Bcrypt.hash("custody-timing-equaliser", cost: UInt8(cost))
        dummies.withLockedValue { $0[cost] = h }
        return h
    }

    /// A random password for generated users: 20 characters of a safe alphabet.
    static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &rng)! })
    }
}
