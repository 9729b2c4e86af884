import Foundation

/// How long an agent waits after a failed poll: what a busy server asked for (`Retry-After`),
/// spread by up to half again; else at random up to 2^failures seconds (at most the poll
/// interval). Agents cut off together (a restart, a cap) do not come back together.
public enum AgentBackoff {
    public static func delay(retryAfter: Double?, failures: Int, interval: Double) -> Double {
        if let asked = retryAfter, asked > 0 { return min(asked, 3600) * Double.random(in: 1...1.5) }
        return Double.random(in: 1...max(1, min(interval, pow(2, Double(min(max(failures, 0), 6))))))
    }
}
