import Foundation
import Notify
import Shared
import Testing
import TestSupport

/// The SMTP client against a real aiosmtpd: plain, STARTTLS and implicit TLS, with authentication.
@Suite(.needs("the test SMTP server, aiosmtpd (make deps)", MailServer.available))
struct SMTPClientTests {
    func message(to: String, subject: String = "Password changed", body: String) -> MailMessage {
        MailMessage(from: "custody@example.test", to: [to], subject: subject, body: body, date: Date(timeIntervalSince1970: 1_800_000_000),
            messageID: UUID().uuidString + "@custody")
    }

    @Test func plainDeliveryKeepsTheContent() async throws {
        let to = "plain-\(UUID().uuidString.prefix(8))@example.test"
        let body = "line one\n.starts with a dot\n..two dots\nlast"
        try await SMTPClient(SMTPSettings(host: "127.0.0.1", port: MailServer.plainPort, security: .none, from: "custody@example.test"))
            .send(message(to: to, subject: "Rotation done: ünïcode ✓", body: body))
        let got = try #require(await MailServer.await(to: to))
        #expect(got.from == "custody@example.test")
        #expect(got.content.contains("\r\n.starts with a dot\r\n..two dots\r\n"))
        #expect(got.content.contains("Subject: =?UTF-8?B?"))
        #expect(got.content.contains("Date: Fri, 15 Jan 2027 08:00:00 +0000"))
        #expect(got.content.contains("Content-Transfer-Encoding: 7bit"))
    }

    @Test func attachmentsGoAsMultipartAndAddressesCannotCarryCommands() async throws {
        let to = "attach-\(UUID().uuidString.prefix(8))@example.test"
        var m = message(to: to, body: "see the file")
        m.attachments = [MailAttachment(name: "r\"e\r\nX: y.csv", contentType: "text/csv; charset=utf-8", data: Data("a,b\n=1,2\n".utf8))]
        let client = SMTPClient(SMTPSettings(host: "127.0.0.1", port: MailServer.plainPort, security: .none, from: "custody@example.test"))
        try await client.send(m)
        let got = try #require(await MailServer.await(to: to))
        #expect(got.content.contains("Content-Type: multipart/mixed; boundary=\"custody-"))
        #expect(got.content.contains(#"Content-Disposition: attachment; filename="r_e__X__y.csv""#), "the name cannot break the header: \(got.content)")
        #expect(got.content.contains(Data("a,b\n=1,2\n".utf8).base64EncodedString()) && got.content.contains("see the file"))
        for bad in ["victim@example.test>\r\nRCPT TO:<evil@example.test", "a b@example.test", ""] {
            await #expect(throws: NotifyError.self) { try await client.send(self.message(to: bad, body: "x")) }
        }
    }

    @Test func startTLSWithAuthPlain() async throws {
        let to = "starttls-\(UUID().uuidString.prefix(8))@example.test"
        try await SMTPClient(SMTPSettings(host: "localhost", port: MailServer.startTLSPort, security: .starttls, username: MailServer.user,
            password: Secret(MailServer.password), from: "custody@example.test", caFile: MailServer.caFile))
            .send(message(to: to, body: "café au lait"))
        let got = try #require(await MailServer.await(to: to))
        #expect(got.tls && got.auth)
        #expect(got.content.contains("Content-Transfer-Encoding: base64"))
        #expect(got.content.contains(Data("café au lait".utf8).base64EncodedString()))
    }

    @Test func implicitTLSWithAuthLogin() async throws {
        let to = "smtps-\(UUID().uuidString.prefix(8))@example.test"
        try await SMTPClient(SMTPSettings(host: "127.0.0.1", port: MailServer.tlsPort, security: .tls, username: MailServer.user,
            password: Secret(MailServer.password), from: "custody@example.test", caFile: MailServer.caFile))
            .send(message(to: to, body: "over SMTPS"))
        #expect(await MailServer.await(to: to)?.auth == true)
    }

    @Test func aWrongPasswordIsAnAuthenticationErrorThatDoesNotShowIt() async throws {
        let wrong = "Wrong-\(UUID().uuidString)"
        let e = await #expect(throws: NotifyError.self) {
            try await SMTPClient(SMTPSettings(host: "localhost", port: MailServer.startTLSPort, security: .starttls, username: MailServer.user,
                password: Secret(wrong), from: "custody@example.test", caFile: MailServer.caFile))
                .send(message(to: "x@example.test", body: "never"))
        }
        #expect(e?.code == .authentication)
        #expect(!(e?.message.contains(wrong) ?? true))
        #expect(!(e?.message.contains(Data("\0\(MailServer.user)\0\(wrong)".utf8).base64EncodedString()) ?? true))
    }

    @Test func anUntrustedCertificateIsRefused() async throws {
        let e = await #expect(throws: NotifyError.self) {
            try await SMTPClient(SMTPSettings(host: "localhost", port: MailServer.startTLSPort, security: .starttls, username: MailServer.user,
                password: Secret(MailServer.password), from: "custody@example.test"))
                .send(message(to: "x@example.test", body: "never"))
        }
        #expect(e?.code == .tls)
    }

    @Test func authenticationInClearIsRefusedBeforeConnecting() async throws {
        let e = await #expect(throws: NotifyError.self) {
            try await SMTPClient(SMTPSettings(host: "127.0.0.1", port: MailServer.plainPort, security: .none, username: "u",
                password: Secret("p"), from: "custody@example.test"))
                .send(message(to: "x@example.test", body: "never"))
        }
        #expect(e?.code == .badInput)
    }

    @Test func nothingListeningIsAConnectError() async throws {
        let e = await #expect(throws: NotifyError.self) {
            try await SMTPClient(SMTPSettings(host: "127.0.0.1", port: TestTargets.freePort(), security: .none, from: "custody@example.test"))
                .send(message(to: "x@example.test", body: "never"))
        }
        #expect(e?.code == .connect)
    }

    @Test func aServerThatNeverAnswersHitsTheDeadline() async throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listen(fd, 4)
        let port = Int(UInt16(bigEndian: addr.sin_port))
        let e = await #expect(throws: NotifyError.self) {
            try await SMTPClient(SMTPSettings(host: "127.0.0.1", port: port, security: .none, from: "c@example.test", timeout: .milliseconds(300)))
                .send(message(to: "x@example.test", body: "never"))
        }
        #expect(e?.code == .timeout)
    }
}
