import Foundation

/// Waits until `condition` holds, checking every `every`, for at most `seconds`; true when it held.
/// Tests wait on what they need to see, never a fixed time that is too short on a loaded machine.
public func eventually(seconds: Double = 30, every: Duration = .milliseconds(50), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try? await Task.sleep(for: every)
    }
}
