import Foundation
import Testing
import TestSupport

/// The plugin suites skip when their server is missing; as root (as `make test` runs) a missing
/// server is a failure here instead of a silent skip.
@Suite struct TestServersTests {
    @Test func everyTestServerStartsWhenRunAsRoot() {
        guard getuid() == 0 else { return }
        #expect(TestTargets.ready.available, "sshd: \(TestTargets.ready.why)")
        #expect(LDAPServer.available, "slapd did not start (\(LDAPServer.dir))")
        #expect(MariaDBServer.available, "mariadbd did not start (\(MariaDBServer.dir))")
        #expect(PostgresServer.available, "PostgreSQL did not start (\(PostgresServer.dir))")
    }
}
