import Foundation
import Testing

@testable import Server
@testable import ServerTestSupport

/// Agents reach the server at `publicURL`: the generated certificate covers its host, and bundles
/// carry it (or this machine's name), never the Host header of the request that asked.
@Suite struct PublicURLTests {
    @Test func theGeneratedCertificateCoversThePublicHost() throws {
        let dir = NSTemporaryDirectory() + "custody-cert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var cfg = ServerConfiguration()
        cfg.dataDir = dir
        cfg.publicURL = "https://vault.example.test:7272/"
        _ = try TLSMaterial.configuration(cfg, hostNames: TLSMaterial.hostNames(bindHost: "0.0.0.0", publicURL: cfg.publicURL))
        #expect(TLSMaterial.certificate(cfg.tlsDir + "/server.crt", covers: "vault.example.test"))
        #expect(TLSMaterial.certificate(cfg.tlsDir + "/server.crt", covers: "127.0.0.1"))
        #expect(!TLSMaterial.certificate(cfg.tlsDir + "/server.crt", covers: "evil.example.test"))
        cfg.publicURL = "https://[2001:db8::7]:7272"
        #expect(TLSMaterial.hostNames(bindHost: "0.0.0.0", publicURL: cfg.publicURL).contains("2001:db8::7"))
    }

    @Test(arguments: ["http://vault.example.test", "vault.example.test:7272", "https://", "https://a b", "https://u:p@vault.example.test"])
    func aPublicURLThatIsNotAnHTTPSURLIsRefused(url: String) {
        var cfg = ServerConfiguration()
        cfg.publicURL = url
        #expect(cfg.problems().contains { $0.contains("publicURL") }, "\(url)")
    }

    func bundleURL(_ h: Harness, _ api: API, _ admin: String) async throws -> String {
        try FileManager.default.createDirectory(atPath: h.custody.config.tlsDir, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: h.custody.config.tlsDir + "/server.crt", contents: Data("-----BEGIN CERTIFICATE-----\n".utf8))
        let r = try await api.call(.post, "/agent-packages", token: admin, json: ["os": "linux"])
        #expect(r.status == .ok, "\(r.text)")
        let dir = NSTemporaryDirectory() + "bundle-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try r.data.write(to: URL(fileURLWithPath: dir + "/b.tar.gz"))
        #expect(try runCommand("/bin/tar", ["xzf", dir + "/b.tar.gz", "-C", dir]).code == 0)
        let text = try String(contentsOfFile: dir + "/custody-agent/Agent.conf", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("ServerURL=") })
        return String(line.dropFirst("ServerURL=".count))
    }

    @Test func aBundleCarriesThePublicURLAndNeverTheHostHeader() async throws {
        let h = try await Harness.make(configure: { $0.publicURL = "https://vault.example.test:7272" })
        try await h.run { api in
            let admin = try await api.admin()
            #expect(try await bundleURL(h, api, admin) == "https://vault.example.test:7272")
        }
        let plain = try await Harness.make(configure: { $0.port = 7443 })
        try await plain.run { api in
            let admin = try await api.admin()
            var buf = [CChar](repeating: 0, count: 256)
            _ = gethostname(&buf, 255)
            // Whatever Host the request carried, the bundle names this machine.
            #expect(try await bundleURL(plain, api, admin) == "https://\(String(cString: buf)):7443")
        }
    }
}
