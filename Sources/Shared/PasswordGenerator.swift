/// Makes random passwords that satisfy a policy, from the system's cryptographic generator.
public struct PasswordGenerator: Sendable {
    /// Length used when the policy allows it; clamped into the policy's range.
    public var preferredLength: Int
    /// Special characters the target accepts (a plugin may narrow these).
    public var specials: [Character]

    public init(preferredLength: Int = 20, specials: [Character] = PasswordPolicy.specials) {
        self.preferredLength = preferredLength
        self.specials = specials
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public func generate(for policy: PasswordPolicy, loginName: String? = nil) throws(Failure) -> Secret {
        if let problem = policy.problems().first { throw Failure(description: "unusable policy: \(problem)") }
        if policy.minSpecial > 0 && specials.isEmpty {
            throw Failure(description: "the policy needs special characters but none are allowed")
        }
        var rng = SystemRandomNumberGenerator()
        // Leaving out the login name's first character makes a match impossible.
        var banned: Set<Character> = []
        if policy.forbidLoginName, let first = loginName?.first {
            let f = String(first)
            banned = Set(f.lowercased() + f.uppercased() + f)
        }
        let lower = Array("abcdefghijklmnopqrstuvwxyz").filter { !banned.contains($0) }
        let upper = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ").filter { !banned.contains($0) }
        let digits = Array("0123456789").filter { !banned.contains($0) }
        let special = specials.filter { !banned.contains($0) }
        let letters = lower + upper
        let length = min(policy.maxLength, max(policy.minLength, preferredLength, policy.requiredCharacters))

        var required: [[Character]] = []
        if policy.requireMixedCase { required += [lower, upper] }
        if policy.requireDigits { required.append(digits) }
        required += Array(repeating: special, count: policy.minSpecial)
        let all = letters + digits + (policy.minSpecial > 0 ? special : special.filter { $0 != "\\" })

        var chars = (0..<length).map { _ in all.randomElement(using: &rng)! }
        var free = Array(chars.indices)
        if policy.firstCharLetter {
            chars[0] = letters.randomElement(using: &rng)!
            free.removeAll { $0 == 0 }
            if policy.requireMixedCase, let i = required.firstIndex(where: { $0.contains(chars[0]) }) {
                required.remove(at: i)
            }
        }
        free.shuffle(using: &rng)
        for (slot, alphabet) in zip(free, required) {
            chars[slot] = alphabet.randomElement(using: &rng)!
        }
        let secret = Secret(String(chars))
        if let why = policy.violations(of: secret, loginName: loginName).first {
            throw Failure(description: "generator could not satisfy the policy: \(why)")
        }
        return secret
    }
}
