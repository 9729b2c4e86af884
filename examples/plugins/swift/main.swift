// Custody custom plugin example (Swift): the same credential file as credfile.sh, one
// "login:salt:sha256(salt+password)" line per account, the file named by reset config option "file".
// It reads one ResetJob on stdin and writes one PluginResponse on stdout, with the types
// Custody itself uses.
import Crypto
import Foundation
import Shared

struct CredentialFile {
    let path: String

    func hash(_ salt: String, _ password: Secret) -> String {
        SHA256.hash(data: Data((salt + password.reveal()).utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func lines() throws(ResetFailure) -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ResetFailure(.unreachable, "cannot read \(path)") }
        return text.split(separator: "\n").map(String.init)
    }

    func check(_ login: String, _ password: Secret?) throws(ResetFailure) {
        guard let line = try lines().first(where: { $0.split(separator: ":").first.map(String.init) == login }) else {
            throw ResetFailure(.authenticationFailed, "no account \(login) in \(path)")
        }
        let parts = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let password, hash(parts[1], password) == parts[2] else {
            throw ResetFailure(.authenticationFailed, "the password of \(login) does not match")
        }
    }

    func set(_ login: String, _ password: Secret) throws(ResetFailure) {
        var kept = try lines().filter { $0.split(separator: ":").first.map(String.init) != login }
        let salt = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        kept.append("\(login):\(salt):\(hash(salt, password))")
        let tmp = path + ".tmp.\(getpid())"
        guard FileManager.default.createFile(atPath: tmp, contents: Data((kept.joined(separator: "\n") + "\n").utf8),
            attributes: [.posixPermissions: 0o600]), rename(tmp, path) == 0
        else { throw ResetFailure(.unreachable, "cannot replace \(path)") }
    }
}

func handle(_ job: ResetJob) throws(ResetFailure) -> String {
    guard let path = job.settings.options["file"], !path.isEmpty else {
        throw ResetFailure(.unsupported, "set the reset config option 'file' to the credential file")
    }
    let login = job.loginName
    guard !login.isEmpty, !login.contains(":") else { throw ResetFailure(.unsupported, "the login name cannot be stored in the file") }
    let file = CredentialFile(path: path)
    switch job.operation {
    case .notify:
        return "nothing to do after a change of \(login)"
    case .verify:
        try file.check(login, job.currentPassword)
        return "the password of \(login) works"
    case .reset:
        try file.check(login, job.currentPassword)
        guard let new = job.newPassword else { throw ResetFailure(.protocolError, "the request has no newPassword") }
        try file.set(login, new)
        return "password of \(login) changed in \(path)"
    }
}

let response: PluginResponse
do {
    let job = try JSONDecoder().decode(ResetJob.self, from: FileHandle.standardInput.readDataToEndOfFile())
    do throws(ResetFailure) { response = .success(try handle(job)) } catch { response = .failure(error) }
} catch {
    response = .failure(ResetFailure(.protocolError, "the request is not a ResetJob"))
}
FileHandle.standardOutput.write(try JSONEncoder().encode(response))
