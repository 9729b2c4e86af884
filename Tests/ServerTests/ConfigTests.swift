import Foundation
import NIOSSL
import Testing

@testable import Server
@testable import ServerTestSupport

@Suite struct ConfigTests {
    func tempFile(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theFileThenTheEnvironmentOverrideTheDefaults() throws {
        let file = try tempFile("port: 8443\nlockoutThreshold: 3\ndataDir: /srv/custody\n")
        let cfg = try ConfigLoader.load(file: file, environment: ["CUSTODY_PORT": "9443"])
        #expect(cfg.port == 9443)
        #expect(cfg.lockoutThreshold == 3)
        #expect(cfg.dataDir == "/srv/custody")
        #expect(cfg.resolvedMasterKeyFile == "/srv/custody/master.key")
    }

    @Test func theResetAndReconcileKeysAreReadAndChecked() throws {
        let file = try tempFile("resetMaxAttempts: 5\nresetRetrySeconds: 2\nreconcileRetries: 3\nreconcileSlowSeconds: 600\nagentTaskLimit: 50\n")
        let cfg = try ConfigLoader.load(file: file, environment: [:])
        #expect((cfg.resetMaxAttempts, cfg.resetRetrySeconds, cfg.reconcileRetries, cfg.reconcileSlowSeconds, cfg.agentTaskLimit) == (5, 2, 3, 600, 50))
        var bad = cfg
        bad.reconcileRetries = 0
        #expect(!bad.problems().isEmpty)
        bad = cfg
        bad.agentTaskLimit = 0
        #expect(!bad.problems().isEmpty)
    }

    @Test func unknownKeysBadValuesAndHalfATLSPairAreRefused() throws {
        #expect(throws: ConfigLoader.Failure.self) { try ConfigLoader.load(file: try tempFile("prot: 1\n"), environment: [:]) }
        #expect(throws: ConfigLoader.Failure.self) { try ConfigLoader.load(file: nil, environment: ["CUSTODY_PORT": "http"]) }
        var cfg = ServerConfiguration()
        cfg.tlsCertificateFile = "/x.pem"
        #expect(!cfg.problems().isEmpty)
        cfg.tlsCertificateFile = nil
        cfg.port = 70000
        #expect(!cfg.problems().isEmpty)
    }

    @Test func anAdminSuppliedCertificateIsServedInsteadOfTheGeneratedOne() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let (cert, key) = try TLSMaterial.selfSigned(hostNames: ["custody.example.test"])
        try TLSMaterial.writeFile(dir + "/mine.crt", cert, mode: 0o644)
        try TLSMaterial.writeFile(dir + "/mine.key", key, mode: 0o600)
        var cfg = ServerConfiguration()
        cfg.dataDir = dir + "/data"
        cfg.tlsCertificateFile = dir + "/mine.crt"
        cfg.tlsKeyFile = dir + "/mine.key"
        let tls = try TLSMaterial.configuration(cfg, hostNames: ["localhost"])
        #expect(tls.minimumTLSVersion == .tlsv12)
        #expect(!FileManager.default.fileExists(atPath: cfg.tlsDir + "/server.crt"), "nothing is generated when the admin supplies a pair")
        let served = try NIOSSLCertificate.fromPEMFile(dir + "/mine.crt").first
        if case .certificate(let c) = tls.certificateChain.first { #expect(c == served) } else { Issue.record("no certificate") }
        cfg.tlsKeyFile = dir + "/missing.key"
        #expect(throws: TLSMaterial.Failure.self) { try TLSMaterial.configuration(cfg, hostNames: []) }
    }
}
