#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A password (or other secret) in memory. The bytes live in one heap buffer that is
/// overwritten with zeros when the last reference goes away, and the type never prints them:
/// `description` and `debugDescription` are fixed strings, so a secret that slips into a log
/// line or an error message shows as `<redacted>`.
public final class Secret: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    // Safety of `nonisolated(unsafe)`: the buffer is written only in `init` (before the
    // instance is shared) and in `deinit` (after the last reference is gone); in between it is
    // only read. Concurrent reads of immutable memory are safe.
    private nonisolated(unsafe) let buffer: UnsafeMutableBufferPointer<UInt8>

    /// Copies `bytes`; the caller should zero its own copy where it can.
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        buffer = .allocate(capacity: Swift.max(bytes.count, 1))
        buffer.initialize(repeating: 0)
        _ = buffer.initialize(from: bytes)
        count = bytes.count
    }

    /// UTF-8 of `string`. Swift strings cannot be wiped; prefer `init(bytes:)` from a buffer.
    public convenience init(_ string: String) { self.init(bytes: Array(string.utf8)) }

    /// Number of bytes (UTF-8 for passwords).
    public let count: Int

    deinit {
        // memset_explicit is not available everywhere; a volatile-style loop through a pointer
        // the optimizer cannot prove dead is the portable way.
        for i in buffer.indices { buffer[i] = 0 }
        withExtendedLifetime(buffer) { _ = memset(buffer.baseAddress!, 0, buffer.count) }
        buffer.deallocate()
    }

    /// Calls `body` with the bytes. Do not let them escape.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(rebasing: buffer[0..<count]))
    }

    /// The secret as a Swift string (for rule checks that need characters). The returned
    /// string cannot be wiped: keep it short-lived and never log it.
    public func unsafeString() -> String? {
        withBytes { String(validating: $0, as: UTF8.self) }
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }
}
