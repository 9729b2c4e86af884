import Foundation

/// A network namespace joined to this one by a veth pair (`outer` here, `inner` there). `cut()`
/// takes the inner end down: from here, packets to `inner` vanish without an answer, as when a
/// database host loses power or a failover moves its address. Needs root and `ip`.
public final class BlackHoleNet: @unchecked Sendable {
    public let name: String
    public let outer: String
    public let inner: String
    private let link: String

    /// Nil (with nothing left behind) when it cannot be made.
    /// `tag` and `net` keep namespaces of different uses apart (10.`net`.x.0/30).
    public static func make(tag: String = "bh", net: Int = 213) -> BlackHoleNet? {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { return nil }
        let n = BlackHoleNet(subnet: Int(getpid() % 200) + 20, tag: tag, net: net)
        return n.create() ? n : nil
    }

    private init(subnet: Int, tag: String, net: Int) {
        name = "custody-\(tag)\(subnet)"
        link = "c\(tag)\(subnet)"
        outer = "10.\(net).\(subnet).1"
        inner = "10.\(net).\(subnet).2"
    }

    private func create() -> Bool {
        remove()
        let steps = [
            "ip netns add \(name)", "ip link add \(link)a type veth peer name \(link)b", "ip link set \(link)b netns \(name)",
            "ip addr add \(outer)/30 dev \(link)a", "ip link set \(link)a up",
            "ip netns exec \(name) ip addr add \(inner)/30 dev \(link)b", "ip netns exec \(name) ip link set \(link)b up",
            "ip netns exec \(name) ip link set lo up",
        ]
        for s in steps where Spawn.run(["/bin/sh", "-c", s]).status != 0 {
            remove()
            return false
        }
        return true
    }

    /// From now on nothing sent to `inner` is answered, nor refused.
    public func cut() -> Bool { Spawn.run(["/bin/sh", "-c", "ip netns exec \(name) ip link set \(link)b down"]).status == 0 }

    public func remove() {
        _ = Spawn.run(["/bin/sh", "-c", "ip netns pids \(name) 2>/dev/null | xargs -r kill -9; ip netns del \(name) 2>/dev/null; ip link del \(link)a 2>/dev/null; true"])
    }
}
