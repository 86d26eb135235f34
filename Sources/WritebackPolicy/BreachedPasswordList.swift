import Crypto
import Foundation
import WritebackCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A sorted upper-case SHA-1 file (HIBP format) searched by binary search over a memory map.
///
/// It exists because the breached-password corpus is hundreds of millions of lines (tens of
/// GB): it cannot be loaded, and must not be sent anywhere. Each line is `HASH` or
/// `HASH:COUNT` (40 hex digits, any case; `\n` or `\r\n`), sorted by hash. A lookup touches
/// a few pages of the map (interpolation, then bisection) and releases them again, so
/// resident memory does not grow with the file or with the number of lookups. Lookups only
/// read: any number of threads may search at once. The file is mapped read-only once and must
/// not be rewritten in place while mapped (replace it by rename and reload the configuration).
public final class BreachedPasswordList: Sendable {
    /// Why the breached-password file could not be used.
    public enum LoadError: Error, Sendable, Hashable, CustomStringConvertible {
        case cannotOpen(path: String, errno: Int32)
        case cannotMap(path: String, errno: Int32)
        public var description: String {
            switch self {
            case .cannotOpen(let p, let e): "breached_sha1_file \(p): cannot open: \(String(cString: strerror(e)))"
            case .cannotMap(let p, let e): "breached_sha1_file \(p): cannot map: \(String(cString: strerror(e)))"
            }
        }
    }

    public let path: String
    /// File size in bytes.
    public let size: Int
    // Safety of `nonisolated(unsafe)`: the mapping is PROT_READ, created in `init` before the
    // instance is shared and unmapped in `deinit` after the last reference is gone; in
    // between it is only read, and concurrent reads of read-only memory are safe.
    private nonisolated(unsafe) let base: UnsafeRawPointer?

    /// Whether lookups drop the pages they touched from the mapping (see `occurrences`).
    public let releasePages: Bool

    public init(path: String, releasePages: Bool = true) throws(LoadError) {
        self.path = path
        self.releasePages = releasePages
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .cannotOpen(path: path, errno: errno) }
        size = Int(st.st_size)
        if size == 0 { base = nil; return }
        guard let map = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), map != MAP_FAILED else {
            throw .cannotMap(path: path, errno: errno)
        }
        _ = madvise(map, size, MADV_RANDOM)
        base = UnsafeRawPointer(map)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), size) }
    }

    /// Whether the SHA-1 of `password`'s UTF-8 is listed.
    public func contains(password: String) -> Bool {
        var utf8 = Array(password.utf8)
        defer { for i in utf8.indices { utf8[i] = 0 } }
        return occurrences(sha1Hex: Self.sha1Hex(utf8)) != nil
    }

    /// Whether the SHA-1 of the secret's bytes is listed.
    public func contains(password: Secret) -> Bool {
        password.withBytes { occurrences(sha1Hex: Self.sha1Hex($0)) != nil }
    }

    /// The line's count for `sha1Hex` (40 hex digits, any case): nil when absent, 1 when the
    /// line has no count.
    public func occurrences(sha1Hex: String) -> Int? {
        occurrences(sha1Hex: Array(sha1Hex.utf8).map(Self.upper))
    }

    /// Same, for 40 upper-case ASCII hex digits.
    ///
    /// Search: SHA-1 values are uniformly distributed, so up to 8 interpolation probes (the
    /// key's first 64 bits placed between the bounds' first 64 bits) narrow the range to a
    /// few pages, then bisection finishes — each step shrinks the range, so a malformed or
    /// skewed file is still searched correctly in O(log n). A lookup touches a handful of
    /// pages; with `releasePages` they are dropped from this process's mapping afterwards
    /// (they stay in the page cache), so resident memory stays flat however many lookups run.
    public func occurrences(sha1Hex key: [UInt8]) -> Int? {
        guard let base, key.count == 40, let target = Self.prefix64(key[...]) else { return nil }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxNotes) { pages in
            var noted = 0
            let result = search(key, target, base.assumingMemoryBound(to: UInt8.self)) { offset in
                if noted < Self.maxNotes { pages[noted] = offset / Self.pageSize; noted += 1 }
            }
            if releasePages { release(UnsafeMutableBufferPointer(rebasing: pages[0..<noted])) }
            return result
        }
    }

    private static let maxNotes = 160
    static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    private func search(_ key: [UInt8], _ target: UInt64, _ p: UnsafePointer<UInt8>, note: (Int) -> Void) -> Int? {
        var lo = 0, hi = size // invariant: lo and hi are line starts; the answer starts in [lo, hi)
        var loKey: UInt64 = 0, hiKey: UInt64 = .max
        var steps = 0
        while lo < hi {
            var probe = lo + (hi - lo) / 2
            if steps < 8, hi - lo > 4 * Self.pageSize, loKey <= target, target <= hiKey, loKey < hiKey {
                let fraction = Double(target - loKey) / Double(hiKey - loKey)
                probe = min(max(lo + Int(fraction * Double(hi - lo)), lo), hi - 1)
            }
            steps += 1
            var start = probe
            while start > lo && p[start - 1] != 0x0A { start -= 1 }
            var end = probe
            while end < size && p[end] != 0x0A { end += 1 }
            note(start); note(max(start, end - 1))
            let order = compare(key, p, start, end)
            if order == 0 { return count(p, start + 40, end) }
            let lineKey = end - start >= 16 ? Self.prefix64(UnsafeBufferPointer(start: p + start, count: 16)[...]) : nil
            if order < 0 {
                hi = start
                if let lineKey { hiKey = lineKey }
            } else {
                lo = end + 1
                if let lineKey { loKey = lineKey }
            }
        }
        return nil
    }

    /// Drops the noted pages (merged into runs) from this process's page tables. The kernel
    /// maps up to 16 neighbouring cached pages on a fault ("fault-around", 64 KiB), so whole
    /// 16-page blocks are dropped.
    private func release(_ pages: UnsafeMutableBufferPointer<Int>) {
        guard let base, !pages.isEmpty else { return }
        var pages = pages
        for i in pages.indices { pages[i] &= ~15 }
        pages.sort()
        var runStart = pages[0], runEnd = pages[0]
        runEnd += 15
        for page in pages.dropFirst() {
            if page <= runEnd + 1 { runEnd = max(runEnd, page + 15); continue }
            drop(base, runStart, runEnd)
            runStart = page; runEnd = page + 15
        }
        drop(base, runStart, runEnd)
    }

    private func drop(_ base: UnsafeRawPointer, _ first: Int, _ last: Int) {
        let offset = first * Self.pageSize
        let length = min((last + 1) * Self.pageSize, size) - offset
        if length > 0 { _ = madvise(UnsafeMutableRawPointer(mutating: base + offset), length, MADV_DONTNEED) }
    }

    /// The first 16 hex digits as a number, or nil when they are not hex.
    static func prefix64<C: Collection>(_ hex: C) -> UInt64? where C.Element == UInt8 {
        var v: UInt64 = 0
        var n = 0
        for c in hex.prefix(16) {
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: return nil
            }
            v = v << 4 | UInt64(d)
            n += 1
        }
        return n == 16 ? v : nil
    }

    /// Sign of key − the line's hash (the bytes before `:`, `\r` or the end).
    private func compare(_ key: [UInt8], _ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var i = 0
        while i < 40 {
            let at = start + i
            if at >= end || p[at] == 0x3A || p[at] == 0x0D { return 1 } // line is a prefix of key
            let c = Self.upper(p[at])
            if key[i] != c { return key[i] < c ? -1 : 1 }
            i += 1
        }
        let at = start + 40
        return (at >= end || p[at] == 0x3A || p[at] == 0x0D) ? 0 : -1
    }

    private func count(_ p: UnsafePointer<UInt8>, _ from: Int, _ end: Int) -> Int {
        guard from < end, p[from] == 0x3A else { return 1 }
        var n = 0, i = from + 1
        while i < end, p[i] >= 0x30, p[i] <= 0x39 {
            n = n &* 10 &+ Int(p[i] - 0x30)
            i += 1
        }
        return max(n, 1)
    }

    static func upper(_ c: UInt8) -> UInt8 { (0x61...0x7A).contains(c) ? c - 0x20 : c }

    /// SHA-1 of `bytes` as 40 upper-case ASCII hex digits.
    public static func sha1Hex<D: ContiguousBytes>(_ bytes: D) -> [UInt8] {
        var hasher = Insecure.SHA1()
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        let digest = hasher.finalize()
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out = [UInt8](); out.reserveCapacity(40)
        for b in digest { out.append(hex[Int(b >> 4)]); out.append(hex[Int(b & 0xF)]) }
        return out
    }

    static func sha1Hex(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        sha1Hex(UnsafeRawBufferPointer(bytes))
    }
}
