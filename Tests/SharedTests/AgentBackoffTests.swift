import Testing

@testable import Shared

@Suite struct AgentBackoffTests {
    /// A server's Retry-After is honoured and spread; without one the wait grows with the failures,
    /// at random, never past the interval; agents that fail together spread out.
    @Test func aBusyServerIsLeftAloneForAsLongAsItAsksAndCrowdsSpreadOut() {
        let asked = (0..<200).map { _ in AgentBackoff.delay(retryAfter: 20, failures: 1, interval: 60) }
        #expect(asked.allSatisfy { (20...30).contains($0) })
        #expect(Set(asked.map { Int($0) }).count > 5, "spread over the window")
        let first = (0..<200).map { _ in AgentBackoff.delay(retryAfter: nil, failures: 1, interval: 60) }
        #expect(first.allSatisfy { (1...2).contains($0) })
        let later = (0..<200).map { _ in AgentBackoff.delay(retryAfter: nil, failures: 10, interval: 60) }
        #expect(later.allSatisfy { (1...60).contains($0) } && later.contains { $0 > 30 })
        #expect(AgentBackoff.delay(retryAfter: nil, failures: 3, interval: 0.5) == 1, "never below a second")
        #expect(AgentBackoff.delay(retryAfter: 1e9, failures: 1, interval: 60) <= 5400)
    }
}
