import Foundation
import Shared

/// A Unix privileged shell kept between changes. With sudo, the session's later changes use
/// sudo's ticket for its terminal; a clean close revokes it (`sudo -k`) before logging out.
final class KeptShell: KeptSession, @unchecked Sendable {
    let opened: OpenedSession
    let sudo: Bool

    init(_ opened: OpenedSession, sudo: Bool) {
        self.opened = opened
        self.sudo = sudo
    }

    var hostKey: String? { opened.hostKey }
    var prompt: PromptSession? { opened.prompt }

    func close() async {
        if sudo, let prompt = opened.prompt {
            do {
                try await prompt.send("sudo -k; echo CUSTODY\"\"_BYE")
                _ = try await prompt.expect([PromptSession.Pattern("bye", "^CUSTODY_BYE\\s*$")], timeout: 1, what: "sudo -k")
            } catch {}
        }
        await opened.close()
    }

    func drop() async { await opened.close() }
}
