import Foundation
import Testing

@testable import ServerTestSupport

/// The agent runs on every target: it links no SSH, directory or database client (issue 17).
@Suite struct AgentFootprintTests {
    @Test func theAgentLinksNoSSHDirectoryOrDatabaseClient() throws {
        let agent = URL(fileURLWithPath: ServerProcess.binary).deletingLastPathComponent().appendingPathComponent("custody-agent").path
        #expect(FileManager.default.isExecutableFile(atPath: agent), "no agent binary at \(agent)")
        let ldd = try runCommand("/usr/bin/ldd", [agent])
        #expect(ldd.code == 0, "ldd: \(ldd.err)")
        for lib in ["libssh2", "libldap", "libmariadb", "libpq"] {
            #expect(!ldd.out.contains(lib), "the agent links \(lib)")
        }
        // PostgresNIO is Swift, so it shows in the symbols, not in ldd; the server has it, as a control.
        let symbols = try runCommand("/usr/bin/nm", [agent], timeout: 120)
        #expect(symbols.code == 0 && !symbols.out.isEmpty)
        #expect(!symbols.out.contains("PostgresNIO"), "the agent carries PostgresNIO")
        let server = try runCommand("/usr/bin/ldd", [ServerProcess.binary])
        #expect(server.out.contains("libssh2") && server.out.contains("libldap"), "the check would not see a linked library")
    }
}
