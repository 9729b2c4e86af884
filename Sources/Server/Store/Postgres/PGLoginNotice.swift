import Foundation

/// A failed login or a sign-in, told to every node (`NOTIFY`, heard by `PGNotifications`), so the
/// login throttle of each counts the attempts made through all of them. The name is the digest the
/// throttle keys by, the address its network; never a password.
struct PGLoginNotice: Codable, Sendable, Equatable {
    static let channel = "custody_logins"
    enum Kind: String, Codable, Sendable { case failed, signedIn }
    var kind: Kind
    var name: String
    var address: String
    var at: Double

    /// Sent when the caller's transaction commits.
    func send(_ c: PGConnection) async throws {
        let payload = String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
        try await c.execute("SELECT pg_notify(?, ?)", [Self.channel, payload])
    }

    static func parse(_ payload: String) -> PGLoginNotice? { try? JSONDecoder().decode(Self.self, from: Data(payload.utf8)) }
}
