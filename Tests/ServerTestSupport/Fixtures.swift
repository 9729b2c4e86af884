import Crypto
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Shared
import Testing
import TestSupport

@testable import Server

/// Small steps many server tests take.
enum Fixtures {
    /// A task once it has ended (waiting up to two minutes), or as it stands then.
    static func waitTask(_ api: API, _ id: String, token: String) async throws -> [String: Any] {
        for _ in 0..<4 {
            let t = try await api.call(.get, "/tasks/\(id)?wait=30", token: token).object
            if ["succeeded", "failed", "cancelled"].contains(t["state"] as? String ?? "") { return t }
        }
        return try await api.call(.get, "/tasks/\(id)", token: token).object
    }

    /// RFC 4648 base32, for the test to compute codes as an authenticator app would.
    static func base32(_ text: String) -> Data {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var out = Data(), buffer = 0, bits = 0
        for c in text {
            guard let v = alphabet.firstIndex(of: c) else { continue }
            buffer = (buffer << 5) | v
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }

    /// A fresh session of the bootstrap administrator.
    static func login(_ api: API) async throws -> String {
        let r = try await api.call(.post, "/auth/login", json: ["username": "admin", "password": API.adminPassword])
        return try #require(r.object["token"] as? String, "\(r.text)")
    }
}
