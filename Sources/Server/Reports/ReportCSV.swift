import Foundation

/// A report's rows as CSV (RFC 4180; a leading formula character neutralised by `Routes.csvField`).
struct ReportCSV {
    private(set) var text: String

    init(_ header: [String]) { text = header.joined(separator: ",") + "\n" }

    mutating func row(_ cells: [String]) {
        text += cells.map(Routes.csvField).joined(separator: ",") + "\n"
    }

    static func stamp(_ d: Date?) -> String { d.map { UTCStamp.format($0.timeIntervalSince1970) } ?? "" }
}
