import Foundation
import Shared

extension DeviceSession {
    /// A change procedure; a failure leaves nothing uncommitted or half made (the dialect's `abort`,
    /// JunOS: rollback). What a failure after the new password was typed means is the engine's
    /// decision (ResetStateMachine).
    func change(_ p: Dialect.Procedure) async throws(ResetFailure) {
        do throws(ResetFailure) {
            try await run(p, errorCode: .rejectedByTarget, what: "the change")
        } catch {
            if let abort = dialect.abort, error.code != .outcomeUnknown {
                try? await run(abort, errorCode: .protocolError, what: "discarding the change")
            }
            throw error
        }
    }

    /// Runs a procedure's steps in its mode, going there first.
    func run(_ p: Dialect.Procedure, errorCode: ResetFailure.Code, what: String) async throws(ResetFailure) {
        guard let at = dialect.mode(p.mode) else { throw ResetFailure(.protocolError, "no mode \(p.mode)") }
        try await goTo(at)
        for step in p.steps {
            try await run(step, in: dialect.mode(step.expect ?? p.mode) ?? at, failure: nil, errorCode: errorCode, what: what)
        }
    }

    /// Sends one step's command, answers its prompts, and waits for the prompt of mode `target`.
    /// Prompts are looked for only after the line the command (or answer) ends, so its echo is
    /// never taken for a prompt or an error. The output is then checked for the dialect's error
    /// messages (the device refused: `refused` is set) and for the step's `ok`; `failure` (a mode's
    /// refusal text) ends the step at once.
    func run(_ step: Dialect.Step, in target: Int, failure: String?, errorCode: ResetFailure.Code, what: String) async throws(ResetFailure) {
        let (line, carriesNew) = try render(step.send)
        try await typing(carriesNew) { () throws(ResetFailure) in try await prompt.send(line) }
        try await awaitEndOfLine(what)
        let answers = step.answers ?? []
        var counts = Array(repeating: 0, count: answers.count)
        var output = ""
        while true {
            var patterns = modePatterns
            patterns += answers.enumerated().map { P("answer:\($0.offset)", Self.atEnd($0.element.prompt)) }
            if let failure { patterns.append(P("failure", failure)) }
            let m = try await prompt.expect(patterns, timeout: step.timeout.map { max($0, prompt.timeout) }, what: "the answer to \(what)")
            output += m.skipped + m.before
            if m.name == "failure" {
                refused = true
                throw ResetFailure(errorCode, "\(what) failed: \(redacted(m.matched))")
            }
            if m.name.hasPrefix("answer:"), let i = Int(m.name.dropFirst(7)) {
                let a = answers[i]
                if counts[i] >= (a.max ?? 1) {
                    try? await prompt.sendRaw([0x03])
                    refused = true
                    let said = Self.errorLine(in: output, dialect.errors).map(redacted) ?? "asked again"
                    throw ResetFailure(errorCode, "\(what) failed: \(a.meaning ?? "the device asked again") (\(said))")
                }
                counts[i] += 1
                let (reply, replyNew) = try render(a.send)
                let secret = Dialect.names(in: a.send).contains(where: Dialect.secretPlaceholders.contains)
                try await typing(replyNew) { () throws(ResetFailure) in
                    if secret { try await prompt.sendSecret(Secret(reply)) } else { try await prompt.send(reply) }
                }
                try await awaitEndOfLine(what)
                continue
            }
            let reached = Int(m.name.dropFirst(5)) ?? 0
            mode = reached
            if let error = Self.errorLine(in: output, dialect.errors) {
                refused = true
                throw ResetFailure(errorCode, "\(what) failed: the device said \(redacted(error))")
            }
            if reached != target {
                throw ResetFailure(.protocolError, "\(what): expected the \(dialect.modes[target].name) prompt, the device is in \(dialect.modes[reached].name) mode")
            }
            if let ok = step.ok, output.range(of: ok, options: [.regularExpression, .caseInsensitive]) == nil {
                throw ResetFailure(.protocolError, "\(what): the device did not confirm (\(redacted(Self.lastLine(output))))")
            }
            return
        }
    }

    /// Sends a line; one that carries the new password is reported to the reset's exposure.
    func typing(_ carriesNew: Bool, _ body: () async throws(ResetFailure) -> Void) async throws(ResetFailure) {
        guard carriesNew, let exposure else { return try await body() }
        try exposure.willSend()
        exposure.markReached()
        try await body()
        try exposure.sent()
    }

    /// The end of the line just typed (the device's echo of it, or the newline of a hidden answer).
    func awaitEndOfLine(_ what: String) async throws(ResetFailure) {
        _ = try await prompt.expect([P("eol", "\n")], what: "the end of the line typed for \(what)")
    }

    /// Fills a template's placeholders; true when it carries the new password.
    func render(_ template: String) throws(ResetFailure) -> (String, Bool) {
        var out = template
        var carriesNew = false
        for name in Dialect.names(in: template) {
            let value: String?
            switch name {
            case "user": value = values.user
            case "enableUser": value = values.enableUser ?? values.user
            case "new": value = values.new?.reveal(); carriesNew = true
            case "current": value = values.current?.reveal()
            case "enable": value = values.enable?.reveal()
            default: value = name.hasPrefix("opt:") ? try option(String(name.dropFirst(4))) : nil
            }
            guard let value else {
                let hint = name == "enable" ? ": configure an enableAccount (the enable secret or password)" : ""
                throw ResetFailure(name == "enable" ? .permissionDenied : .unsupported, "this step needs {\(name)}, which the job does not have\(hint)")
            }
            out = out.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return (out, carriesNew)
    }

    /// The first line of `text` that matches an error pattern.
    static func errorLine(in text: String, _ errors: [String]) -> String? {
        for line in text.split(whereSeparator: \.isNewline) {
            for e in errors where line.range(of: e, options: [.regularExpression, .caseInsensitive]) != nil {
                return line.trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    static func lastLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).last { !$0.trimmingCharacters(in: .whitespaces).isEmpty } ?? "no output")
    }

    /// An `{opt:NAME}` value, one of those the dialect allows.
    func option(_ name: String) throws(ResetFailure) -> String {
        let allowed = dialect.options?[name] ?? []
        guard let value = values.options[name] ?? allowed.first else { throw ResetFailure(.unsupported, "no value for {opt:\(name)}") }
        guard allowed.contains(value) else {
            throw ResetFailure(.unsupported, "\(name) '\(value)' is not one of \(allowed.joined(separator: ", ")) for \(dialect.name)")
        }
        return value
    }

    /// Device text for a message: every secret of the job redacted first, then cut.
    func redacted(_ text: String) -> String {
        String(Secret.redact(text, prompt.secrets + [values.new, values.current, values.enable].compactMap { $0 }).prefix(200))
    }
}
