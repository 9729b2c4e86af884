import Shared

/// The failure `body` throws, or nil when it succeeds: tests then expect on the code, and a
/// success fails the expectation instead of skipping it.
public func failure(of body: () async throws(ResetFailure) -> Void) async -> ResetFailure? {
    do throws(ResetFailure) {
        try await body()
        return nil
    } catch { return error }
}
