import Foundation

/// Which of a server's naming contexts (RootDSE `namingContexts`) holds a DN. It exists for
/// the default of `[directory] group_base_dn`: users are often configured under
/// `ou=people,dc=example,dc=org` while groups live in `ou=groups,dc=example,dc=org`, so groups
/// are searched in the whole naming context that holds `base_dn`, not under `base_dn`.
/// Pure: DN components compare case-insensitively with spaces around them ignored (as
/// `DirectoryUser.normalize(dn:)` does), and a context matches only whole components at the end
/// (`dc=example,dc=org` does not hold `dc=myexample,dc=org`).
public enum NamingContext {
    /// The longest context among `contexts` that `dn` is equal to or below; nil when none is.
    public static func holding(_ dn: String, among contexts: [String]) -> String? {
        let target = components(dn)
        guard !target.isEmpty else { return nil }
        var best: (context: String, depth: Int)?
        for context in contexts {
            let c = components(context)
            guard !c.isEmpty, c.count <= target.count, Array(target.suffix(c.count)) == c else { continue }
            if best == nil || c.count > best!.depth { best = (context, c.count) }
        }
        return best?.context
    }

    /// Normalised RDNs, most specific first; empty for an empty or blank DN.
    static func components(_ dn: String) -> [String] {
        guard !dn.trimmingCharacters(in: .whitespaces).isEmpty else { return [] }
        let parts = dn.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return parts.contains(where: \.isEmpty) ? [] : parts
    }
}
