import Foundation
import Hummingbird

/// The reports page: the figures at a glance, charts drawn on the server as SVG, the accounts
/// that fall short, and each report as CSV. Printable to PDF from the browser.
extension WebConsole {
    func reports(_ web: RouterGroup<AppContext>) {
        web.get("/reports") { request, _ in
            try await page(request) { v in
                let p = v.principal
                let o = try await custody.reports.overview(by: p)
                let (inv, comp, exp) = (o.inventory, o.compliance, o.expiry)
                var sync: [String: Int] = [:]
                for a in inv.accounts { sync[a.syncStatus, default: 0] += 1 }
                let figures: [[String: Any]] = [
                    ["label": "resources", "value": inv.summary.resources], ["label": "accounts", "value": inv.summary.accounts],
                    ["label": "resource types", "value": inv.summary.resourceTypes], ["label": "owners", "value": inv.summary.owners],
                    ["label": "compliant", "value": comp.summary.compliant, "kind": "ok"],
                    ["label": "falling short", "value": comp.summary.nonCompliant, "kind": comp.summary.nonCompliant > 0 ? "bad" : ""],
                    ["label": "expired", "value": exp.summary.expired, "kind": exp.summary.expired > 0 ? "bad" : ""],
                    ["label": "expiring within \(exp.withinDays) days", "value": exp.summary.expiringSoon],
                    ["label": "out of sync", "value": sync[SyncStatus.outOfSync.rawValue] ?? 0, "kind": (sync["outOfSync"] ?? 0) > 0 ? "bad" : ""],
                ]
                var charts: [[String: Any]] = [
                    Self.chart("Accounts by resource type", SVGChart.bars(inv.byType.map { .init(label: $0.name, value: $0.accounts) },
                        title: "Accounts by resource type")),
                    Self.chart("Accounts falling short, by finding", SVGChart.bars(Self.findings(comp.summary), title: "Accounts falling short, by finding")),
                    Self.chart("Sync state", SVGChart.bars(SyncStatus.allCases.map {
                        .init(label: ConsoleWords.state($0.rawValue), value: sync[$0.rawValue] ?? 0, kind: $0 == .inSync ? "ok" : $0 == .outOfSync ? "bad" : "")
                    }, title: "Sync state")),
                    Self.chart("Falling short, by resource type", SVGChart.bars(comp.byType.map { .init(label: $0.name, value: $0.nonCompliant, kind: "bad") },
                        title: "Falling short, by resource type")),
                ]
                var users: [[String: Any]] = []
                if let act = o.activity {
                    let title = "Activity by day, last \(ActivityReport.defaultDays) days (UTC)"
                    var wide = Self.chart(title, SVGChart.columns(act.byDay.map { ($0.day, [$0.counts.retrievals, $0.counts.resets, $0.counts.logins]) },
                        series: ["retrievals", "resets", "logins"], title: title))
                    wide["wide"] = true
                    charts.append(wide)
                    charts.append(Self.chart("Most active users", SVGChart.bars(act.byUser.map { .init(label: $0.user, value: $0.counts.total) },
                        title: "Most active users")))
                    users = act.byUser.prefix(10).map {
                        ["user": $0.user, "retrievals": $0.counts.retrievals, "resets": $0.counts.resets, "logins": $0.counts.logins,
                            "failedLogins": $0.counts.failedLogins, "refused": $0.counts.refused]
                    }
                }
                let short = comp.accounts.prefix(Self.reportRows).map { r -> [String: Any] in
                    ["resourceId": r.resourceId, "resource": r.resource, "accountId": r.accountId, "account": r.account, "type": r.resourceType,
                        "owner": r.owner, "findings": r.findings.map { ["word": Self.word($0)] }, "violations": r.violations.joined(separator: "; ")]
                }
                return try render("reports", ["nav": nav(v), "title": "Reports", "figures": figures, "charts": charts, "short": short,
                    "more": comp.accounts.count > Self.reportRows ? comp.accounts.count - Self.reportRows : 0, "activity": o.activity != nil,
                    "users": users, "generatedAt": Self.when(inv.generatedAt)])
            }
        }
        for name in ReportService.Name.allCases {
            web.get("/reports/\(name.rawValue).csv") { request, _ in
                try await page(request) { v in
                    var headers = HTTPFields()
                    headers[.contentType] = "text/csv; charset=utf-8"
                    headers[.contentDisposition] = "attachment; filename=\"custody-\(name.rawValue).csv\""
                    let csv = try await custody.reports.csv(name, by: v.principal)
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
                }
            }
        }
    }

    static let reportRows = 100

    static func chart(_ title: String, _ svg: String) -> [String: Any] { ["title": title, "svg": svg] }

    static func findings(_ s: ComplianceReport.Summary) -> [SVGChart.Bar] {
        [(ComplianceReport.Finding.neverRotated, s.neverRotated), (.outOfSync, s.outOfSync), (.policyViolation, s.policyViolation),
            (.expired, s.expired), (.sharedTooWidely, s.sharedTooWidely)]
            .map { SVGChart.Bar(label: word($0.0), value: $0.1, kind: "bad") }
    }

    static func word(_ f: ComplianceReport.Finding) -> String {
        switch f {
        case .neverRotated: "never rotated"
        case .outOfSync: "out of sync"
        case .policyViolation: "breaks its policy"
        case .expired: "past its maximum age"
        case .sharedTooWidely: "shared too widely"
        }
    }
}
