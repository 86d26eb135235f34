/// "Did you mean …?" for unknown keys and sections: a typo (`bind_passwrod_file`) should cost
/// the administrator one glance, and a secret written into the TOML gets a pointer to the
/// file-based way instead.
enum Suggestions {
    static func hint(for key: String, known: [String]) -> String? {
        let lower = key.lowercased()
        if (lower.contains("password") || lower.contains("secret")) && !lower.hasSuffix("_file") {
            return "secrets are never read from the configuration: put it in a file (a systemd credential) and point the matching *_file key at it"
        }
        let best = known.map { (name: $0, distance: distance(lower, $0.lowercased())) }
            .filter { $0.distance <= max(2, $0.name.count / 4) }
            .min { $0.distance < $1.distance }
        if let best { return "did you mean \"\(best.name)\"?" }
        return "known keys: " + known.joined(separator: ", ")
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
