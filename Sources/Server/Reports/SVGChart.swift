import Foundation

/// Charts drawn on the server as inline SVG: no script, every text escaped, colours by class (the
/// console's stylesheet), so a page prints to PDF as it shows.
enum SVGChart {
    struct Bar: Sendable {
        var label: String
        var value: Int
        /// A class for the bar's colour (`ok`, `bad`, `warn`, or none).
        var kind = ""
    }

    /// Horizontal bars, largest scale first given; at most `limit` bars, the rest summed as "others".
    static func bars(_ input: [Bar], title: String, limit: Int = 10) -> String {
        var bars = Array(input.prefix(limit))
        if input.count > limit { bars.append(Bar(label: "others", value: input.dropFirst(limit).reduce(0) { $0 + $1.value })) }
        let (labelWidth, plot, row) = (140, 230, 24)
        let height = max(1, bars.count) * row + 8
        let top = max(1, bars.map(\.value).max() ?? 1)
        var svg = open(width: labelWidth + plot + 50, height: height, title: title)
        if bars.isEmpty { svg += #"<text x="0" y="18" class="empty">nothing to show</text>"# }
        for (i, b) in bars.enumerated() {
            let y = i * row + 4
            let w = b.value == 0 ? 0 : max(2, plot * b.value / top)
            svg += #"<text x="\#(labelWidth - 8)" y="\#(y + 15)" text-anchor="end">\#(escape(clip(b.label, 20)))</text>"#
            svg += #"<rect x="\#(labelWidth)" y="\#(y + 3)" width="\#(w)" height="\#(row - 8)" class="bar \#(escape(b.kind))"><title>"#
                + "\(escape(b.label)): \(b.value)</title></rect>"
            svg += #"<text x="\#(labelWidth + w + 6)" y="\#(y + 15)">\#(b.value)</text>"#
        }
        return svg + "</svg>"
    }

    /// Stacked columns, one per label (a day), parts in the order of `series`, with a legend.
    static func columns(_ columns: [(label: String, parts: [Int])], series: [String], title: String) -> String {
        let (left, plotW, plotH, legend) = (40, 620, 160, 22)
        let width = left + plotW + 10
        let height = legend + plotH + 24
        let top = max(1, columns.map { $0.parts.reduce(0, +) }.max() ?? 1)
        var svg = open(width: width, height: height, title: title)
        for (i, name) in series.enumerated() {
            let x = left + i * 130
            svg += #"<rect x="\#(x)" y="4" width="12" height="12" class="bar s\#(i)"/><text x="\#(x + 16)" y="15">\#(escape(name))</text>"#
        }
        let base = legend + plotH
        svg += #"<line x1="\#(left)" y1="\#(base)" x2="\#(left + plotW)" y2="\#(base)" class="axis"/>"#
        svg += #"<text x="\#(left - 4)" y="\#(legend + 10)" text-anchor="end">\#(top)</text><text x="\#(left - 4)" y="\#(base)" text-anchor="end">0</text>"#
        guard !columns.isEmpty else { return svg + "</svg>" }
        let step = Double(plotW) / Double(columns.count)
        let every = max(1, columns.count / 6)
        for (i, c) in columns.enumerated() {
            let x = Double(left) + Double(i) * step
            var y = Double(base)
            for (s, v) in c.parts.enumerated() where v > 0 {
                let h = Double(plotH) * Double(v) / Double(top)
                y -= h
                svg += #"<rect x="\#(fmt(x + 1))" y="\#(fmt(y))" width="\#(fmt(max(1, step - 2)))" height="\#(fmt(h))" class="bar s\#(s)"><title>"#
                    + "\(escape(c.label)) \(escape(series[safe: s] ?? "")): \(v)</title></rect>"
            }
            if i % every == 0 {
                svg += #"<text x="\#(fmt(x + step / 2))" y="\#(base + 16)" text-anchor="middle">\#(escape(String(c.label.suffix(5))))</text>"#
            }
        }
        return svg + "</svg>"
    }

    private static func open(width: Int, height: Int, title: String) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \#(width) \#(height)" width="\#(width)" height="\#(height)""#
            + #" aria-label="\#(escape(title))"><title>\#(escape(title))</title>"#
    }

    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case _ where c.value < 0x20 || c.value == 0x7F: out += " "
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func clip(_ s: String, _ n: Int) -> String { s.count > n ? String(s.prefix(n - 1)) + "…" : s }
    private static func fmt(_ v: Double) -> String { String(format: "%.1f", v) }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
