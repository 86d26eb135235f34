import Foundation

/// The records one `read(2)` of an inotify descriptor returns (`struct inotify_event`:
/// `int wd; uint32_t mask, cookie, len; char name[len]`, the name NUL-padded, native byte order), decoded without
/// trusting the buffer: a record that does not fit ends the parse. Pure, so it is unit-tested
/// with truncated and hostile buffers.
public enum InotifyEvents {
    public struct Event: Sendable, Hashable {
        public var watch: Int32
        public var mask: UInt32
        /// The file's name for a watched directory's events; "" for a watched file's own.
        public var name: String
        public init(watch: Int32, mask: UInt32, name: String) { self.watch = watch; self.mask = mask; self.name = name }
    }

    /// The fixed part of a record: wd, mask, cookie, len.
    public static let headerSize = 16

    public static func parse(_ bytes: [UInt8]) -> [Event] {
        var events: [Event] = []
        var offset = 0
        // Native byte order, as the kernel writes it.
        func u32(_ at: Int) -> UInt32 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) } }
        while offset + headerSize <= bytes.count {
            let watch = Int32(bitPattern: u32(offset)), mask = u32(offset + 4), length = Int(u32(offset + 12))
            let nameStart = offset + headerSize
            guard length <= bytes.count - nameStart else { break }
            let nameBytes = bytes[nameStart..<(nameStart + length)].prefix { $0 != 0 }
            events.append(Event(watch: watch, mask: mask, name: String(decoding: nameBytes, as: UTF8.self)))
            offset = nameStart + length
        }
        return events
    }
}
