/// The task's work was cancelled mid-way (the server is stopping): what a cancelled step said is
/// no fact about the target, so nothing more is recorded. The task stays `running` and the next
/// start recovers it (`recoverInterrupted`), as after a crash.
struct ResetStopped: Error {
    static func check() throws(ResetStopped) { if Task.isCancelled { throw ResetStopped() } }
}
