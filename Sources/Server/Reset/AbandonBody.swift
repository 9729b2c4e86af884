import Foundation

struct AbandonBody: APIBody {
    static let fields = ["reason"]
    static let required = ["reason"]
    var reason: String
    func validate() throws {
        try Validate.text(reason, field: "reason", max: 1000)
        Validate.recorder?.note("reason", ["minLength": 1, "pattern": Validate.saysSomethingPattern])
        if reason.trimmingWhitespace.isEmpty { throw DomainError.invalid("invalid_field", "field 'reason' must say why the reset is abandoned") }
    }
}
