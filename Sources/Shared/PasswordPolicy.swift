/// Rules a password must satisfy. Built-ins are Low, Medium and Strong; admins add custom ones.
public struct PasswordPolicy: Codable, Sendable, Equatable {
    public var name: String
    public var minLength: Int
    public var maxLength: Int
    public var requireMixedCase: Bool
    public var requireDigits: Bool
    public var minSpecial: Int
    public var firstCharLetter: Bool
    public var forbidLoginName: Bool
    public var historyDepth: Int
    public var maxAgeDays: Int?

    public init(
        name: String, minLength: Int = 8, maxLength: Int = 64, requireMixedCase: Bool = false,
        requireDigits: Bool = false, minSpecial: Int = 0, firstCharLetter: Bool = false,
        forbidLoginName: Bool = false, historyDepth: Int = 0, maxAgeDays: Int? = nil
    ) {
        self.name = name
        self.minLength = minLength
        self.maxLength = maxLength
        self.requireMixedCase = requireMixedCase
        self.requireDigits = requireDigits
        self.minSpecial = minSpecial
        self.firstCharLetter = firstCharLetter
        self.forbidLoginName = forbidLoginName
        self.historyDepth = historyDepth
        self.maxAgeDays = maxAgeDays
    }

    public static let low = PasswordPolicy(name: "Low", minLength: 4, maxLength: 64)
    public static let medium = PasswordPolicy(
        name: "Medium", minLength: 8, maxLength: 64, requireMixedCase: true, requireDigits: true,
        historyDepth: 3, maxAgeDays: 180)
    public static let strong = PasswordPolicy(
        name: "Strong", minLength: 12, maxLength: 64, requireMixedCase: true, requireDigits: true,
        minSpecial: 1, firstCharLetter: true, forbidLoginName: true, historyDepth: 10, maxAgeDays: 90)
    public static let builtIns: [PasswordPolicy] = [.low, .medium, .strong]

    /// Characters that count as special, and that the generator uses.
    public static let specials = Array("!#$%&()*+,-./:;<=>?@[]^_{|}~")

    /// The least number of characters the class rules need.
    var requiredCharacters: Int {
        (requireMixedCase ? 2 : 0) + (requireDigits ? 1 : 0) + minSpecial
            + (firstCharLetter && !requireMixedCase ? 1 : 0)
    }

    /// Problems with the policy itself; empty when it is usable.
    public func problems() -> [String] {
        var out: [String] = []
        if minLength < 1 { out.append("minLength must be at least 1") }
        if maxLength > 256 { out.append("maxLength must be at most 256") }
        if maxLength < minLength { out.append("maxLength must not be below minLength") }
        if minSpecial < 0 || minSpecial > 64 { out.append("minSpecial must be between 0 and 64") }
        if requiredCharacters > maxLength {
            out.append("maxLength is too short for the required character classes")
        }
        if historyDepth < 0 || historyDepth > 100 { out.append("historyDepth must be between 0 and 100") }
        if let age = maxAgeDays, age < 1 { out.append("maxAgeDays must be at least 1") }
        return out
    }

    /// Why `password` breaks this policy; empty when it complies. Never quotes the password.
    public func violations(of password: Secret, loginName: String? = nil) -> [String] {
        let chars = Array(password.reveal())
        var out: [String] = []
        if chars.count < minLength { out.append("shorter than \(minLength) characters") }
        if chars.count > maxLength { out.append("longer than \(maxLength) characters") }
        if requireMixedCase && !(chars.contains { $0.isUppercase } && chars.contains { $0.isLowercase }) {
            out.append("needs both upper and lower case letters")
        }
        if requireDigits && !chars.contains(where: { $0.isASCII && $0.isNumber }) {
            out.append("needs a digit")
        }
        let special = chars.filter { !$0.isLetter && !$0.isNumber }.count
        if special < minSpecial { out.append("needs at least \(minSpecial) special characters") }
        if firstCharLetter, let first = chars.first, !first.isLetter {
            out.append("must start with a letter")
        }
        if forbidLoginName, let login = loginName, !login.isEmpty,
            password.reveal().lowercased().contains(login.lowercased())
        {
            out.append("must not contain the login name")
        }
        return out
    }
}
