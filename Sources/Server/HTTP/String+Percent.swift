import Foundation

extension String {
    /// `removingPercentEncoding`, without Foundation's cost when there is nothing to decode (most
    /// paths and parameters).
    var percentDecoded: String? { utf8.contains(UInt8(ascii: "%")) ? removingPercentEncoding : self }
}
