import Foundation
import ResetPlugins

/// The program of an approved listener: its sealed script, or its executable, checked against the
/// approved SHA-256 when it runs (never read inside a transaction).
struct ListenerPrograms: Sendable {
    let vault: Vault
    let workRoot: String
    let outputLimit: Int

    @Sendable func program(_ l: ListenerRecord) throws -> ExternalProgram {
        let source: ExternalProgram.Source
        var name = l.name
        if let sealed = l.sealedScript {
            source = .bytes(Array(try vault.open(sealed, identity: Vault.listenerIdentity(id: l.id, revision: l.revision))))
        } else if let path = l.executable, let sha = l.sha256 {
            source = .file(path: path, sha256: sha)
            name = URL(fileURLWithPath: path).lastPathComponent
        } else {
            throw DomainError.invalid("listener_unavailable", "listener \(l.name) has no program")
        }
        return ExternalProgram(name: name, source: source, preCommand: ExternalProgram.split(l.preCommand),
            workRoot: workRoot, timeout: l.timeoutSeconds, outputLimit: outputLimit)
    }
}
