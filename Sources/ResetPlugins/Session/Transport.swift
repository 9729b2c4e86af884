import Shared

/// A byte stream to a target: an SSH channel or a telnet connection.
public protocol Transport: AnyObject, Sendable {
    /// Waits up to `timeout` seconds for bytes.
    func read(timeout: Double) async throws(ResetFailure) -> ReadResult
    func write(_ bytes: [UInt8]) async throws(ResetFailure)
    func close() async
}

public enum ReadResult: Sendable, Equatable {
    case data([UInt8])
    case timeout
    case closed
}
