import Foundation
import Testing

@testable import Server

/// A run's entries read by hand are what `JSONDecoder` reads, and what the hand cannot read goes
/// to `JSONDecoder`, which decides.
@Suite struct RunEntriesTests {
    static let odd = ["", "web01", "q\"uote\\back/slash", "tab\tnew\nline\r\u{8}\u{c}", "é😀\u{2028}", "ctl\u{1}", "{\"x\":[1]}", " spaced "]

    static func same(_ a: [RotationRunRecord.Entry], _ b: [RotationRunRecord.Entry]) throws -> Bool {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return try e.encode(a) == e.encode(b)
    }

    @Test func entriesTheEncoderWroteReadAsTheDecoderReadsThem() throws {
        var all: [RotationRunRecord.Entry] = []
        for (i, s) in Self.odd.enumerated() {
            all.append(RotationRunRecord.Entry(resourceId: "r\(i)", accountId: s, resource: s, account: Self.odd[(i + 1) % Self.odd.count],
                taskId: i % 2 == 0 ? nil : s, skipped: i % 3 == 0 ? s : nil))
        }
        for cut in [all, [], Array(all.prefix(1)), all.filter { !$0.account.contains("\u{1}") && !$0.resource.contains("\u{1}") }] {
            let json = String(decoding: try JSONEncoder.api.encode(cut), as: UTF8.self)
            let slow = try JSONDecoder.api.decode([RotationRunRecord.Entry].self, from: Data(json.utf8))
            #expect(try Self.same(try RunEntries.decode(json), slow))
            if !json.contains("\\u") {
                let fast = try #require(RunEntries.read(json), "read by hand: \(json)")
                #expect(try Self.same(fast, slow))
            }
        }
        #expect(RunEntries.read(#" [ {"account":"a" , "accountId":"b","resource":"c","resourceId":"d","taskId":null} ] "#)?.first?.taskId == nil)
    }

    @Test func whatTheHandCannotReadTheDecoderDecides() throws {
        let fallback = [#"[{"account":"a","accountId":"b","resource":"c","resourceId":"d","extra":1}]"#,
            #"[{"account":"\u0041","accountId":"b","resource":"c","resourceId":"d"}]"#]
        for json in fallback {
            #expect(RunEntries.read(json) == nil)
            #expect(try RunEntries.decode(json).count == 1, "\(json)")
        }
        for bad in ["", "[", "[{]", #"[{"account":"a"}]"#, #"[{"account":"a","accountId":"b","resource":"c","resourceId":"d"}"#,
            #"[{"account":"a","accountId":"b","resource":"c","resourceId":"d"}] x"#, #"[{"account":"a","account":"b"}]"#, "{}", "null",
            "[{\"account\":\"a\nb\",\"accountId\":\"b\",\"resource\":\"c\",\"resourceId\":\"d\"}]"]
        {
            #expect(RunEntries.read(bad) == nil, "\(bad)")
            #expect(throws: (any Error).self, "\(bad)") { try RunEntries.decode(bad) }
        }
    }
}
