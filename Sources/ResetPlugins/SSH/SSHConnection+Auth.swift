import CLibSSH2
import Foundation
import Shared

/// Answers keyboard-interactive prompts from a pattern list; reached through the session's abstract pointer.
final class KeyboardInteractiveContext {
    let answers: [(pattern: String, answer: Secret)]
    var unanswered: [String] = []
    /// Patterns that answered a prompt, in order.
    var used: [String] = []
    init(answers: [(pattern: String, answer: Secret)]) { self.answers = answers }

    func answer(_ prompt: String) -> Secret? {
        let lower = prompt.lowercased()
        guard let hit = answers.first(where: { lower.range(of: $0.pattern, options: .regularExpression) != nil }) else { return nil }
        used.append(hit.pattern)
        return hit.answer
    }
}

/// The prompts of an expired-password change inside keyboard-interactive authentication.
typealias ExpiredPrompts = Prompts.KeyboardInteractive

private let kbdintCallback: custody_kbdint_cb = { _, _, _, _, count, prompts, responses, abstract in
    guard let abstract, let raw = abstract.pointee, let prompts, let responses else { return }
    let ctx = Unmanaged<KeyboardInteractiveContext>.fromOpaque(raw).takeUnretainedValue()
    for i in 0..<Int(count) {
        let p = prompts[i]
        let text = p.text.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: Int(p.length)), as: UTF8.self) } ?? ""
        if let secret = ctx.answer(text) {
            let bytes = Array(secret.reveal().utf8)
            bytes.withUnsafeBufferPointer { buf in
                buf.withMemoryRebound(to: CChar.self) { custody_ssh2_set_response(responses, Int32(i), $0.baseAddress, UInt32(buf.count)) }
            }
        } else {
            ctx.unanswered.append(text)
            custody_ssh2_set_response(responses, Int32(i), "", 0)
        }
    }
}

extension SSHConnection {
    /// Authenticates `user`; a refusal is `authenticationFailed`. Returns true when an expired
    /// password was changed during the login itself.
    @discardableResult
    public func authenticate(user: String, _ credential: Credential, exposure: ResetExposure? = nil) async throws(ResetFailure) -> Bool {
        try await owner.run { () throws(ResetFailure) -> Bool in try self.authenticateSync(user: user, credential, exposure) }
    }

    private func authenticateSync(user: String, _ credential: Credential, _ exposure: ResetExposure? = nil) throws(ResetFailure) -> Bool {
        guard let s = rawSession else { throw ResetFailure(.protocolError, "the SSH session is closed") }
        let until = Date().addingTimeInterval(30)
        let ulen = UInt32(user.utf8.count)
        var methods = ""
        while true {
            if let list = libssh2_userauth_list(s, user, ulen) {
                methods = String(cString: list)
                break
            }
            if libssh2_userauth_authenticated(s) != 0 { return false }
            guard libssh2_session_last_errno(s) == custody_ssh2_eagain() else {
                throw ResetFailure(.protocolError, "cannot list authentication methods: \(lastError())")
            }
            try waitSocket(until, "authentication")
        }
        let offered = Set(methods.split(separator: ",").map(String.init))
        switch credential {
        case .passwordOrExpiredChange(let current, let new):
            if offered.contains("password") { return try authenticateSync(user: user, .password(current)) }
            guard offered.contains("keyboard-interactive") else {
                throw ResetFailure(.unsupported, "the server offers none of password, keyboard-interactive (\(methods))")
            }
            let used = try keyboardInteractive(s, user: user,
                answers: [(ExpiredPrompts.new, new), (ExpiredPrompts.current, current), (ExpiredPrompts.login, current)], until,
                exposure: exposure)
            return used.contains(ExpiredPrompts.new)
        case .password(let secret):
            if offered.contains("password") {
                let pw = secret.reveal()
                let rc = try loop(until, "password authentication") {
                    libssh2_userauth_password_ex(s, user, ulen, pw, UInt32(pw.utf8.count), nil)
                }
                if rc == 0 { return false }
                if rc == custody_ssh2_error_password_expired() {
                    throw ResetFailure(.authenticationFailed, "the password of \(user) has expired")
                }
                if !offered.contains("keyboard-interactive") || rc != custody_ssh2_error_auth_failed() {
                    throw failure(rc, user)
                }
            }
            guard offered.contains("keyboard-interactive") else {
                throw ResetFailure(.unsupported, "the server offers none of password, keyboard-interactive (\(methods))")
            }
            // Only the login prompt: a "new password" prompt (an expired password) is left unanswered, so it fails cleanly.
            try keyboardInteractive(s, user: user, answers: [(ExpiredPrompts.login, secret)], until)
        case .keyboardInteractive(let answers):
            guard offered.contains("keyboard-interactive") else {
                throw ResetFailure(.unsupported, "the server does not offer keyboard-interactive (\(methods))")
            }
            try keyboardInteractive(s, user: user, answers: answers, until)
        case .publicKey(let key, let passphrase):
            guard offered.contains("publickey") else { throw ResetFailure(.unsupported, "the server does not offer publickey (\(methods))") }
            let pem = key.reveal()
            let rc = try loop(until, "public key authentication") {
                libssh2_userauth_publickey_frommemory(s, user, Int(ulen), nil, 0, pem, pem.utf8.count, passphrase?.reveal())
            }
            if rc != 0 { throw failure(rc, user) }
        }
        return false
    }

    @discardableResult
    private func keyboardInteractive(_ s: OpaquePointer, user: String, answers: [(pattern: String, answer: Secret)], _ until: Date,
        exposure: ResetExposure? = nil) throws(ResetFailure) -> [String]
    {
        let ctx = KeyboardInteractiveContext(answers: answers)
        let abstract = libssh2_session_abstract(s)
        let unmanaged = Unmanaged.passRetained(ctx)
        abstract?.pointee = unmanaged.toOpaque()
        defer {
            abstract?.pointee = nil
            unmanaged.release()
        }
        let rc: Int32
        do {
            rc = try loop(until, "keyboard-interactive authentication") {
                libssh2_userauth_keyboard_interactive_ex(s, user, UInt32(user.utf8.count), kbdintCallback)
            }
        } catch {
            if ctx.used.contains(ExpiredPrompts.new) { exposure?.markReached() }
            throw error
        }
        if ctx.used.contains(ExpiredPrompts.new) {
            // The new password was typed into the expired-password change: a refusal now does not
            // prove that nothing changed (the state machine decides).
            exposure?.markReached()
            if rc != 0 { throw ResetFailure(.protocolError, "the expired-password change was answered, then the login failed: \(lastError())") }
        }
        if rc != 0 {
            if !ctx.unanswered.isEmpty {
                throw ResetFailure(.authenticationFailed, "keyboard-interactive prompt without an answer: \(ctx.unanswered.first ?? "")")
            }
            throw failure(rc, user)
        }
        return ctx.used
    }

    private func failure(_ rc: Int32, _ user: String) -> ResetFailure {
        if rc == custody_ssh2_error_auth_failed() || rc == custody_ssh2_error_pubkey_unverified() {
            return ResetFailure(.authenticationFailed, "authentication as \(user) failed")
        }
        return ResetFailure(.protocolError, "authentication as \(user) failed: \(lastError())")
    }
}
