import Foundation
import Notify
import Testing
import TestSupport

/// Syslog messages as a real rsyslogd parses them, over UDP and TCP, in both formats.
@Suite(.needs("rsyslogd (make deps)", SyslogServer.available))
struct SyslogClientTests {
    /// These tests check what rsyslogd parses, not speed: a loaded test machine may take a while.
    static let patience: Duration = .seconds(60)

    func message(_ text: String) -> SyslogMessage {
        SyslogMessage(severity: .warning, time: Date(timeIntervalSince1970: 1_800_000_000.25), hostname: "vault01", msgID: "reset_failed",
            fields: [("resource", "web \"01\"]"), ("account", "root")], text: text)
    }

    @Test(arguments: [SyslogSettings.Transport.udp, .tcp])
    func rfc5424(_ transport: SyslogSettings.Transport) async throws {
        let text = "admin:10.0.0.5 reset_failed 2027-01-15T08:00:00Z failure vault01 web01:root:\(UUID().uuidString)"
        let s = SyslogSettings(host: "127.0.0.1", port: transport == .udp ? SyslogServer.udpPort : SyslogServer.tcpPort, transport: transport,
            format: .rfc5424, facility: "local3", timeout: Self.patience)
        try await SyslogClient(s).send([message(text).rendered(s)])
        let got = try #require(await SyslogServer.await(containing: text, seconds: 60))
        #expect(got.version == "1")
        #expect(got.facility == "local3")
        #expect(got.severity == "warning")
        #expect(got.host == "vault01")
        #expect(got.app == "custody")
        #expect(got.msgID == "reset_failed")
        #expect(got.structuredData == #"[custody@32473 resource="web \"01\"\]" account="root"]"#)
        #expect(got.time == "2027-01-15T08:00:00.250Z")
        #expect(got.message == text)
    }

    @Test(arguments: [SyslogSettings.Transport.udp, .tcp])
    func rfc3164(_ transport: SyslogSettings.Transport) async throws {
        let text = "admin:10.0.0.5 password_changed 2027-01-15T08:00:00Z success vault01 web01:root:\(UUID().uuidString)"
        let s = SyslogSettings(host: "127.0.0.1", port: transport == .udp ? SyslogServer.udpPort : SyslogServer.tcpPort, transport: transport,
            format: .rfc3164, timeout: Self.patience)
        let rendered = message(text).rendered(s, timeZone: TimeZone(identifier: "UTC")!)
        #expect(rendered.hasPrefix("<36>Jan 15 08:00:00 vault01 custody: "))
        try await SyslogClient(s).send([rendered])
        let got = try #require(await SyslogServer.await(containing: text, seconds: 60))
        #expect(got.version == "0")
        #expect(got.facility == "auth")
        #expect(got.host == "vault01")
        #expect(got.app == "custody")
        #expect(got.message.trimmingCharacters(in: .whitespaces) == text)
    }

    @Test func aSingleDigitDayIsPaddedWithASpace() {
        let s = SyslogSettings(host: "h", format: .rfc3164)
        var m = message("x")
        m.time = Date(timeIntervalSince1970: 1_799_308_800)  // 2027-01-07 08:00 UTC
        #expect(m.rendered(s, timeZone: TimeZone(identifier: "UTC")!).hasPrefix("<36>Jan  7 08:00:00 vault01 custody: x"))
    }

    @Test func tcpWithNothingListeningFails() async {
        let s = SyslogSettings(host: "127.0.0.1", port: TestTargets.freePort(), transport: .tcp)
        await #expect(throws: NotifyError.self) { try await SyslogClient(s).send(["<13>1 - - - - - - x"]) }
    }
}
