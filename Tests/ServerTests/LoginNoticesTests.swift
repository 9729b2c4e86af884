import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Login notices between nodes are sealed: only a node holding the same master key opens one, a
/// node ignores its own, and one outside the throttle's window is refused.
@Suite struct LoginNoticesTests {
    static let vault = Vault(masterKey: MasterKey.generate())
    static let a = LoginNotices(vault: vault, node: "a")
    static let b = LoginNotices(vault: vault, node: "b")
    static let now = 1_800_000_000.0

    static func notice(at: Double = now, node: String = "a") -> LoginNotices.Notice {
        .init(kind: .failed, name: "digest", address: "10.0.0.9", at: at, node: node)
    }

    @Test func anotherNodeOpensWhatANodeSealedAndNobodyElseDoes() throws {
        let sealed = try Self.a.seal(Self.notice())
        #expect(Self.b.open(sealed, now: Self.now, window: 900) == Self.notice())
        #expect(Self.a.open(sealed, now: Self.now, window: 900) == nil, "a node's own notice is not counted again")
        let stranger = LoginNotices(vault: Vault(masterKey: MasterKey.generate()), node: "c")
        #expect(stranger.open(sealed, now: Self.now, window: 900) == nil, "another master key opens nothing")
        #expect(!sealed.contains("digest") && !sealed.contains("10.0.0.9"), "a listener learns nothing")
    }

    @Test func aForgedAlteredStaleOrFutureNoticeIsIgnored() throws {
        let json = String(decoding: try JSONEncoder().encode(Self.notice()), as: UTF8.self)
        #expect(Self.b.open(json, now: Self.now, window: 900) == nil, "plain JSON from any database role")
        var bytes = try #require(Data(base64Encoded: try Self.a.seal(Self.notice())))
        bytes[bytes.count / 2] ^= 1
        #expect(Self.b.open(bytes.base64EncodedString(), now: Self.now, window: 900) == nil, "altered")
        #expect(Self.b.open(try Self.a.seal(Self.notice(at: Self.now - 2000)), now: Self.now, window: 900) == nil, "older than the window")
        #expect(Self.b.open(try Self.a.seal(Self.notice(at: Self.now + 3600)), now: Self.now, window: 900) == nil, "from the future")
        #expect(Self.b.open(try Self.a.seal(Self.notice(at: Self.now + 30)), now: Self.now, window: 900) != nil, "a clock a little ahead")
    }
}
