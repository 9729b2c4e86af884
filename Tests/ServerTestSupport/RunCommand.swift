import Foundation
import TestSupport

/// Runs a command to completion (bounded) and returns its exit code and output.
func runCommand(_ path: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil, timeout: Double = 60) throws
    -> (code: Int32, out: String, err: String)
{
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cmd-\(UUID().uuidString)").path
    let p = try Child(path, args, env: env, stdout: dir + ".out", stderr: dir + ".err", stdin: stdin ?? "")
    if p.wait(timeout: timeout) == nil {
        p.terminate()
        if p.wait(timeout: 10) == nil { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
    }
    let out = (try? String(contentsOfFile: dir + ".out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + ".err", encoding: .utf8)) ?? ""
    try? FileManager.default.removeItem(atPath: dir + ".out")
    try? FileManager.default.removeItem(atPath: dir + ".err")
    return (p.terminationStatus, out, err)
}
