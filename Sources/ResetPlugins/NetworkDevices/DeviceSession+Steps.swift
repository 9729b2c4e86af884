import Foundation
import Shared

extension DeviceSession {
    /// Runs a procedure's steps in its mode, going there first.
    func run(_ p: Dialect.Procedure, errorCode: ResetFailure.Code, what: String) async throws(ResetFailure) {
        guard let at = dialect.mode(p.mode) else { throw ResetFailure(.protocolError, "no mode \(p.mode)") }
        try await goTo(at)
        for step in p.steps {
            try await run(step, in: dialect.mode(step.expect ?? p.mode) ?? at, failure: nil, errorCode: errorCode, what: what)
        }
    }

    /// Sends one step's command, answers its prompts, and waits for the prompt of mode `target`.
    /// The output (without the command's echo) is checked for the dialect's error messages and
    /// for the step's `ok`; `failure` (a mode's refusal text) ends the step at once.
    func run(_ step: Dialect.Step, in target: Int, failure: String?, errorCode: ResetFailure.Code, what: String) async throws(ResetFailure) {
        let (line, carriesNew) = try render(step.send)
        try await prompt.send(line)
        if carriesNew { sentNew = true }
        let answers = step.answers ?? []
        var counts = Array(repeating: 0, count: answers.count)
        var output = ""
        var first = true
        while true {
            var patterns = modePatterns
            patterns += answers.enumerated().map { P("answer:\($0.offset)", Self.atEnd($0.element.prompt)) }
            if let failure { patterns.append(P("failure", failure)) }
            let m = try await prompt.expect(patterns, what: "the answer to \(what)")
            output += first ? Self.dropEcho(m.before, of: step.send) : m.before
            first = false
            if m.name == "failure" { throw ResetFailure(errorCode, "\(what) failed: \(redacted(m.matched))") }
            if m.name.hasPrefix("answer:"), let i = Int(m.name.dropFirst(7)) {
                let a = answers[i]
                if counts[i] >= (a.max ?? 1) {
                    try? await prompt.sendRaw([0x03])
                    let said = Self.errorLine(in: output, dialect.errors) ?? redacted(m.matched)
                    throw ResetFailure(errorCode, "\(what) failed: \(a.meaning ?? "the device asked again") (\(said))")
                }
                counts[i] += 1
                let (reply, replyNew) = try render(a.send)
                if Dialect.names(in: a.send).contains(where: Dialect.secretPlaceholders.contains) {
                    try await prompt.sendSecret(Secret(reply))
                } else {
                    try await prompt.send(reply)
                }
                if replyNew { sentNew = true }
                continue
            }
            let reached = Int(m.name.dropFirst(5)) ?? 0
            mode = reached
            if let error = Self.errorLine(in: output, dialect.errors) {
                throw ResetFailure(errorCode, "\(what) failed: the device said \(redacted(error))")
            }
            if reached != target {
                throw ResetFailure(.protocolError, "\(what): expected the \(dialect.modes[target].name) prompt, the device is in \(dialect.modes[reached].name) mode")
            }
            if let ok = step.ok, output.range(of: ok, options: [.regularExpression, .caseInsensitive]) == nil {
                throw ResetFailure(errorCode, "\(what): the device did not confirm (\(redacted(Self.lastLine(output))))")
            }
            return
        }
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
            default: value = nil
            }
            guard let value else {
                let hint = name == "enable" ? ": configure an enableAccount (the enable secret or password)" : ""
                throw ResetFailure(name == "enable" ? .permissionDenied : .unsupported, "this step needs {\(name)}, which the job does not have\(hint)")
            }
            out = out.replacingOccurrences(of: "{\(name)}", with: value)
        }
        return (out, carriesNew)
    }

    /// The output without the echoed command line (which may hold a password or look like an error).
    static func dropEcho(_ text: String, of command: String) -> String {
        let word = command.split(separator: " ").first.map(String.init) ?? command
        guard let nl = text.firstIndex(of: "\n") else { return text.contains(word) ? "" : text }
        return text[..<nl].contains(word) ? String(text[text.index(after: nl)...]) : text
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

    func redacted(_ text: String) -> String {
        let secrets = [values.new, values.current, values.enable].compactMap { $0 }
        return Secret.redact(String(text.prefix(200)), secrets)
    }
}
