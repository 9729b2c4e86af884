import Foundation
import Shared

/// The shell dialogue of one reset. It reports what the target said; once the new password is
/// typed (the session tells the job's exposure), ResetStateMachine decides what a failure means.
struct UnixDialogue {
    typealias P = PromptSession.Pattern
    let session: PromptSession
    let job: ResetJob
    var prompts: [String: String] { job.settings.prompts }

    func pattern(_ key: String, _ fallback: String) -> String { prompts[key] ?? fallback }

    /// Waits for the shell: a marker echoed back proves the shell reads our lines.
    func sync(_ n: Int = 1) async throws(ResetFailure) {
        try await session.send("echo CUSTODY\"\"_SYNC\(n)")
        _ = try await session.expect([P("sync", "^CUSTODY_SYNC\(n)\\s*$")], what: "the shell")
    }

    /// A kept session before its next change: the shell answers a fresh (random) marker within
    /// `timeout`, and after su still runs as uid 0.
    func stillReady(_ n: UInt32, root: Bool, timeout: Double) async throws(ResetFailure) {
        try await session.send("echo CUSTODY\"\"_READY\(n)=`id -u`")
        let m = try await session.expect([P("ready", #"^CUSTODY_READY\#(n)=(\d+)\s*$"#)], timeout: timeout, what: "the kept shell")
        if root && !m.matched.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix("=0") { throw ResetFailure(.permissionDenied, "the kept shell no longer runs as uid 0") }
    }

    /// Waits for the first shell prompt; true when the system says the password has expired instead.
    func awaitShellOrExpiry() async throws(ResetFailure) -> Bool {
        let m = try await session.expect([
            P("expired", Prompts.expired),
            P("shell", pattern("shell", Prompts.shell)),
        ], what: "the shell")
        return m.name == "expired"
    }

    /// The change the system forces at login: current, new, retype; then it says so or closes.
    func expiredChange(current: Secret?, new: Secret) async throws(ResetFailure) {
        var sent = 0
        var warnings: [String] = []
        while true {
            let m = try await session.expect([
                P("current", pattern("current", UnixPrompts.current)), P("retype", pattern("retype", UnixPrompts.retype)),
                P("new", pattern("password", UnixPrompts.new)), P("bad", UnixPrompts.badPassword),
                P("done", Prompts.changed),
            ], what: "the expired-password dialogue")
            switch m.name {
            case "current":
                guard let current, sent == 0 else { throw ResetFailure(.protocolError, "asked for the current password again") }
                try await session.sendSecret(current)
            case "new", "retype":
                if sent >= 2 { throw ResetFailure(.rejectedByTarget, "the password was refused: \(warnings.last ?? "asked again")") }
                try await session.sendSecret(new)
                sent += 1
            case "bad": warnings.append(m.matched.trimmingCharacters(in: .whitespaces))
            default: return
            }
        }
    }

    /// `su -` to the root account, checking that the effective uid is 0 afterwards.
    func su(_ root: ResetJob.Credential?) async throws(ResetFailure) {
        guard let root, let password = root.password else {
            throw ResetFailure(.unsupported, "su needs a root account with a password")
        }
        try LoginName.check(root.loginName)
        try await session.send("su - \(LoginName.shellQuoted(root.loginName))")
        let asked = try await session.expect([P("password", pattern("root", UnixPrompts.suPassword)), P("failure", UnixPrompts.suFailure)],
            what: "su's password prompt")
        if asked.name == "failure" { throw ResetFailure(.permissionDenied, "su refused: \(session.tail(asked.matched))") }
        try await session.sendSecret(password)
        // su discards typed-ahead input once it has the password: wait for its answer first.
        let answer = try await session.expect([P("failure", UnixPrompts.suFailure), P("shell", pattern("shell", Prompts.shell))],
            what: "su's answer")
        if answer.name == "failure" { throw ResetFailure(.permissionDenied, "su as \(root.loginName) failed: authentication failure") }
        try await session.send("echo CUSTODY\"\"_UID=`id -u`")
        let after = try await session.expect([P("uid", #"^CUSTODY_UID=(\d+)\s*$"#), P("failure", UnixPrompts.suFailure)],
            what: "the root shell")
        if after.name == "failure" { throw ResetFailure(.permissionDenied, "su as \(root.loginName) failed: authentication failure") }
        guard after.matched.contains("CUSTODY_UID=0") else {
            throw ResetFailure(.permissionDenied, "su as \(root.loginName) did not give uid 0")
        }
    }

    /// Changes another account's password as root (or through sudo). The first change of a
    /// shared session runs `sudo -k` (the password is proven, no ticket is used or made); later
    /// ones (`sudoTicket`) run plain sudo: the second asks and makes a ticket for the session's
    /// terminal, the rest use it while it lasts. `KeptShell` revokes it when the session closes.
    func change(user: String, new: Secret, sudo useSudo: Bool, sudoPassword: Secret?, sudoTicket: Bool = false) async throws(ResetFailure) {
        let prefix = useSudo ? "sudo \(sudoTicket ? "" : "-k ")-p 'CUSTODY_SUDO''_PROMPT: ' " : ""
        let sudo: Secret?? = useSudo ? .some(sudoPassword) : .none
        if job.settings.changeMethod == .chpasswd {
            // The shell reads the line itself (no echo, no history, no argv) and pipes it to chpasswd.
            try await session.send("stty -echo; printf 'CUSTODY_IN''PUT: '; IFS= read -r CUSTODY_L; stty echo; "
                + "printf '%s\\n' \"$CUSTODY_L\" | \(prefix)chpasswd; echo CUSTODY\"\"_RC=$?; unset CUSTODY_L")
            _ = try await session.expect([P("input", "CUSTODY_INPUT: $")], what: "the shell's read")
            try await session.sendSecretLine("\(user):", new)
            if let sudo { try await self.sudoPassword(sudo, expectNext: false) }
            try await finish("chpasswd")
            return
        }
        try await session.send("\(prefix)passwd \(LoginName.shellQuoted(user)); echo CUSTODY\"\"_RC=$?")
        if let sudo { try await self.sudoPassword(sudo, expectNext: true) }
        try await passwdDialogue(current: nil, new: new)
    }

    /// The account changes its own password: passwd asks the current one first.
    func selfChange(current: Secret?, new: Secret) async throws(ResetFailure) {
        try await session.send("passwd; echo CUSTODY\"\"_RC=$?")
        try await passwdDialogue(current: current, new: new)
    }

    /// Answers sudo's prompt. Without a password (a key login), sudo must not ask: NOPASSWD is required.
    private func sudoPassword(_ password: Secret?, expectNext: Bool) async throws(ResetFailure) {
        let first = try await session.expect([P("sudo", UnixPrompts.sudoPrompt), P("refused", UnixPrompts.sudoRefused),
            P("new", pattern("password", UnixPrompts.new)), P("rc", UnixPrompts.rc("CUSTODY_RC"))], what: "sudo's password prompt")
        switch first.name {
        case "refused": throw ResetFailure(.permissionDenied, "sudo refused: \(first.matched)")
        case "new", "rc": session.unread(first)
        default:
            guard let password else {
                try await session.sendRaw([0x03])
                throw ResetFailure(.permissionDenied, "sudo asked for a password but the login account has none (use NOPASSWD or a password)")
            }
            try await session.sendSecret(password)
            let next: PromptSession.Match?
            do {
                next = try await session.expect([P("retry", UnixPrompts.sudoRetry), P("refused", UnixPrompts.sudoRefused),
                    P("new", pattern("password", UnixPrompts.new)), P("rc", UnixPrompts.rc("CUSTODY_RC"))],
                    timeout: expectNext ? nil : 2, what: "sudo's answer")
            } catch where error.code == .promptTimeout && !expectNext {
                next = nil  // chpasswd waits silently for its input
            }
            if next?.name == "retry" {
                try await session.sendRaw([0x03])
                throw ResetFailure(.permissionDenied, "sudo refused the login account's password")
            }
            if next?.name == "refused" { throw ResetFailure(.permissionDenied, "sudo refused: \(next!.matched)") }
            if let next { session.unread(next) }
        }
    }

    /// New / Retype (after Current when asked), then the exit code.
    private func passwdDialogue(current: Secret?, new: Secret) async throws(ResetFailure) {
        try await passwdSteps(current: current, new: new, sent: SentCounter())
    }

    private final class SentCounter { var value = 0 }

    private func passwdSteps(current: Secret?, new: Secret, sent: SentCounter) async throws(ResetFailure) {
        var warnings: [String] = []
        while true {
            let m = try await session.expect([
                P("current", pattern("current", UnixPrompts.current)), P("retype", pattern("retype", UnixPrompts.retype)),
                P("new", pattern("password", UnixPrompts.new)), P("bad", UnixPrompts.badPassword),
                P("rc", UnixPrompts.rc("CUSTODY_RC")),
            ], what: "passwd's prompts")
            switch m.name {
            case "current":
                guard let current, sent.value == 0 else { throw ResetFailure(.protocolError, "passwd asked for the current password again") }
                try await session.sendSecret(current)
            case "new", "retype":
                if sent.value >= 2 {
                    try await session.sendRaw([0x03])
                    throw ResetFailure(.rejectedByTarget, "passwd refused the password: \(warnings.last ?? "asked again")")
                }
                try await session.sendSecret(new)
                sent.value += 1
            case "bad":
                warnings.append(m.matched.trimmingCharacters(in: .whitespaces))
            default:
                let code = Int(m.matched.filter(\.isNumber)) ?? -1
                if code == 0 && sent.value == 2 { return }
                let reason = warnings.last ?? "exit code \(code)"
                if sent.value < 2 && warnings.contains(where: { $0.lowercased().contains("manipulation") }) && current != nil {
                    throw ResetFailure(.authenticationFailed, "passwd refused the current password")
                }
                // Both entries typed and passwd still failed: PAM may have changed part of it (not a clean refusal).
                let failure: ResetFailure.Code = sent.value == 0 ? .permissionDenied : sent.value >= 2 ? .protocolError : .rejectedByTarget
                throw ResetFailure(failure, "passwd failed: \(reason)")
            }
        }
    }

    private func finish(_ what: String) async throws(ResetFailure) {
        let m = try await session.expect([P("rc", UnixPrompts.rc("CUSTODY_RC"))], what: "\(what)'s result")
        let code = Int(m.matched.filter(\.isNumber)) ?? -1
        if code != 0 { throw ResetFailure(.rejectedByTarget, "\(what) failed with exit code \(code): \(session.tail(m.before))") }
    }
}
