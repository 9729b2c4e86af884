@testable import ServerTestSupport

/// The harness's answer, not the server's `Reply` (both modules are imported).
typealias Reply = ServerTestSupport.Reply
