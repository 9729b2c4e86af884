import Foundation
import TestSupport
import Testing

@testable import ServerTestSupport

extension LiveServerTests {
    /// The real binary finds its dialects (the resource bundle beside it), lists them, and resets an
    /// IOS user over telnet through the CLI, with the enable account and copy to startup.
    @Test(.needs("the device emulators, python3 with paramiko (make deps)", DeviceEmulator.available))
    func theCLIResetsANetworkDeviceAccountThroughADialect() async throws {
        let emu = try DeviceEmulator(family: "ios", users: ["helpdesk:Help-Pass-1:1", "ops:Ops-Start-1:1"],
            flags: ["--enable-secret", "Enable-Secret-1"])
        defer { emu.stop() }
        let s = ServerProcess()
        #expect(try s.start())
        defer { s.stop() }
        let token = try adminToken(s)
        let dialects = try cli(s, ["dialect", "list"], token: token)
        #expect(dialects.code == 0 && dialects.out.contains("cisco-ios") && dialects.out.contains("juniper-junos"), "\(dialects)")
        let rid = try #require(try json(try cli(s, ["resource", "create", "--name", "core-sw", "--dns-name", "127.0.0.1", "--type", "Cisco IOS",
            "--json"], token: token))["id"] as? String)
        for (name, pw) in [("helpdesk", "Help-Pass-1"), ("enable", "Enable-Secret-1")] {
            _ = try cli(s, ["account", "create", "--resource", rid, "--login-name", name, "--json"], token: token, stdin: pw + "\n")
        }
        let aid = try #require(try json(try cli(s, ["account", "create", "--resource", rid, "--login-name", "ops", "--json"], token: token,
            stdin: "Ops-Start-1\n"))["id"] as? String)
        let cfg = s.dataDir + ".device.json"
        try #"{"mode":"agentless","protocol":"telnet","port":\#(emu.telnetPort),"loginAccount":"helpdesk","enableAccount":"enable","copyToStartup":true}"#
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        #expect(try cli(s, ["reset-config", "set", "--resource", rid, cfg], token: token).code == 0)
        let reset = try cli(s, ["password", "reset", "--resource", rid, "--account", aid, "--wait", "60"], token: token)
        #expect(reset.code == 0 && reset.out.contains("succeeded"), "\(reset.out) \(reset.err)")
        let got = try cli(s, ["password", "get", "--resource", rid, "--account", aid], token: token).out.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(emu.password("ops") == got && emu.password("ops", in: "startup") == got)
        #expect(!s.stderr.contains(got) && !s.stdout.contains(got))
    }
}
