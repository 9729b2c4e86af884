import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// The server's certificate: the admin's, or a self-signed one made at first start.
enum TLSMaterial {
    struct Failure: Error, CustomStringConvertible { let description: String }

    static func configuration(_ config: ServerConfiguration, hostNames: [String]) throws -> TLSConfiguration {
        let certPath: String
        let keyPath: String
        if let c = config.tlsCertificateFile, let k = config.tlsKeyFile {
            (certPath, keyPath) = (c, k)
        } else {
            certPath = config.tlsDir + "/server.crt"
            keyPath = config.tlsDir + "/server.key"
            if !FileManager.default.fileExists(atPath: certPath) {
                try FileManager.default.createDirectory(atPath: config.tlsDir, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
                let (cert, key) = try selfSigned(hostNames: hostNames)
                try writeFile(keyPath, key, mode: 0o600)
                try writeFile(certPath, cert, mode: 0o644)
            }
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certPath).map { NIOSSLCertificateSource.certificate($0) }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
            tls.minimumTLSVersion = .tlsv12
            return tls
        } catch {
            throw Failure(description: "cannot load the TLS certificate \(certPath) or key \(keyPath): \(error)")
        }
    }

    /// A P-256 certificate valid for ten years with SANs for the names and addresses given.
    static func selfSigned(hostNames: [String], now: Date = Date()) throws -> (certificate: String, key: String) {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            CommonName("Custody server")
            OrganizationName("Custody")
        }
        var sans: [GeneralName] = []
        for h in Set(hostNames) {
            if let ip = ipBytes(h) { sans.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(ip)))) } else { sans.append(.dnsName(h)) }
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            try ExtendedKeyUsage([.serverAuth])
            SubjectAlternativeNames(sans)
        }
        let cert = try Certificate(version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(3650 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256, extensions: extensions,
            issuerPrivateKey: .init(key))
        return (try cert.serializeAsPEM().pemString + "\n", key.pemRepresentation + "\n")
    }

    /// Whether the PEM certificate at `path` names `host` among its subject alternative names.
    static func certificate(_ path: String, covers host: String) -> Bool {
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8), let cert = try? Certificate(pemEncoded: pem),
            let sans = try? cert.extensions.subjectAlternativeNames
        else { return false }
        let ip = ipBytes(host)
        return sans.contains { name in
            switch name {
            case .dnsName(let d): return d.lowercased() == host.lowercased()
            case .ipAddress(let a): return ip.map { Array(a.bytes) == $0 } ?? false
            default: return false
            }
        }
    }

    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func hostNames(bindHost: String, publicURL: String? = nil) -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        if let host = publicURL.flatMap(ServerConfiguration.publicHost) { names.append(host) }
        var buf = [CChar](repeating: 0, count: 256)
        if gethostname(&buf, 255) == 0 { names.append(String(cString: buf)) }
        if bindHost != "0.0.0.0" && bindHost != "::" { names.append(bindHost) }
        return names
    }

    static func writeFile(_ path: String, _ text: String, mode: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw Failure(description: "cannot write \(path)")
        }
    }
}
