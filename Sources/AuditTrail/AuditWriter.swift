import Crypto
import Foundation
import RequestCodec
import WritebackCore

/// The daemon's end of the trail: appends one line per terminal request, a signature line
/// every `batch_lines` lines / `batch_seconds` and at close, and rotates after a signature.
/// Runs on its own serial thread (AuditExecutor): writes and fsyncs block.
///
/// Crash safety. Each line goes out with its newline in one `write(2)` on an O_APPEND file, so
/// a SIGKILL leaves either the whole line or (on a short write, or power loss) a torn tail
/// without newline. `open` cuts such a tail off and says so in the `open` line it writes
/// (`repaired_torn_bytes`, `repaired_torn_sha256`), so the chain stays verifiable and the
/// repair is itself on the record. `append` returns only after the line is fdatasync'ed, so a
/// request's line is durable before its queue row says it is terminal (appends that arrive
/// while one fsync runs share the next). A second daemon on the same file is refused (flock).
public actor AuditWriter {
    public struct Settings: Sendable {
        public var config: AuditConfig
        public var owner: String
        public var version: String
        public init(config: AuditConfig, owner: String, version: String) {
            self.config = config; self.owner = owner; self.version = version
        }
    }

    /// What `open` found, for the daemon's log.
    public struct Opened: Sendable {
        public var nextSeq: Int
        public var repairedTorn: AuditOpen.Torn?
        public var signed: Bool
    }

    private nonisolated let executor = AuditExecutor()
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let settings: Settings
    let path: String
    let key: Curve25519.Signing.PrivateKey?
    let clock: @Sendable () -> Date
    /// Called after each signature line (seq, its hash): the daemon logs it, which gives an
    /// auditor an anchor outside the file.
    let onSigned: (@Sendable (Int, String) -> Void)?
    private var fd: Int32
    private var head: AuditChain.Head
    private var size: Int
    private var unsignedLines = 0
    private var oldestUnsigned: Date?
    private var lastWritten = -1
    private var lastSynced = -1

    public init(_ settings: Settings, clock: @escaping @Sendable () -> Date = { Date() },
                onSigned: (@Sendable (Int, String) -> Void)? = nil) throws(AuditError) {
        self.settings = settings
        path = settings.config.path
        self.clock = clock
        self.onSigned = onSigned
        if settings.config.signingKey.isEmpty {
            key = nil
        } else {
            do { key = try PEMKeys.signingPrivateKey(path: settings.config.signingKey) } catch {
                throw .signingKey(path: settings.config.signingKey, reason: error.description)
            }
        }
        let (fd, head, size, torn) = try Self.openFile(path)
        let line = AuditChain.openLine(AuditOpen(reason: .start, owner: settings.owner, version: settings.version, repairedTorn: torn),
                                       at: clock(), head: head)
        do {
            try Self.writeAll(fd, line.bytes, path: path)
            try Self.dataSync(fd, path: path)
        } catch {
            closeFile(fd)
            throw error
        }
        self.fd = fd
        self.head = line.next
        self.size = size + line.bytes.count + 1
        unsignedLines = 1
        oldestUnsigned = clock()
        lastWritten = head.seq
        lastSynced = head.seq
        opened = Opened(nextSeq: line.next.seq, repairedTorn: torn, signed: key != nil)
    }

    public nonisolated let opened: Opened

    /// Appends `record` and returns once it is on disk. Between its write and its sync the call
    /// yields the writer's queue, so the appends already queued behind it write their lines
    /// first and one fdatasync covers them all. One trip to the writer's thread per append: as
    /// two calls (write, then sync) each append cost two more thread switches.
    public func append(_ record: AuditRecord) async throws(AuditError) {
        let seq = try write(record)
        await Task.yield()
        try sync(through: seq)
    }

    private func write(_ record: AuditRecord) throws(AuditError) -> Int {
        guard fd >= 0 else { throw .closed(path: path) }
        let seq = head.seq
        try writeLineSync(AuditChain.requestLine(record, head: head))
        if unsignedLines >= settings.config.batchLines { try sign() }
        return seq
    }

    private func sync(through seq: Int) throws(AuditError) {
        if lastSynced >= seq { return }
        try syncSync()
    }

    /// Signs the unsigned lines when the oldest is `batch_seconds` old (the daemon's timer).
    public func signIfDue() throws(AuditError) {
        guard fd >= 0, let oldest = oldestUnsigned,
              clock().timeIntervalSince(oldest) >= Double(settings.config.batchSeconds) else { return }
        try sign()
    }

    /// A last signature, then the file is closed. Later appends fail with `closed`.
    public func close() throws(AuditError) {
        guard fd >= 0 else { return }
        defer { closeFile(fd); fd = -1 }
        if unsignedLines > 0 { try sign(mayRotate: false) } else { try syncSync() }
    }

    /// Seq of the next line (for tests and status).
    public var nextSeq: Int { head.seq }

    /// A signature line (with a key), made durable; then a rotation when the file is large
    /// (never while closing: the last file must end with its signature).
    private func sign(mayRotate: Bool = true) throws(AuditError) {
        if let key {
            let line: (bytes: [UInt8], next: AuditChain.Head)
            do { line = try AuditChain.signatureLine(key: key, at: clock(), head: head) } catch {
                throw .signingKey(path: settings.config.signingKey, reason: "\(error)")
            }
            let seq = head.seq
            try writeLineSync(line)
            unsignedLines = 0
            oldestUnsigned = nil
            try syncSync()
            onSigned?(seq, head.prev)
        } else {
            // Unsigned trail: the batch boundary still makes the lines durable.
            unsignedLines = 0
            oldestUnsigned = nil
            try syncSync()
        }
        if mayRotate && settings.config.rotateBytes > 0 && size >= settings.config.rotateBytes { try rotate() }
    }

    private func rotate() throws(AuditError) {
        let rotated = AuditFiles.rotatedPath(for: path, at: clock(), nextSeq: head.seq)
        guard !FileManager.default.fileExists(atPath: rotated) else { return }  // cannot happen: seq is unique
        guard rename(path, rotated) == 0 else { throw .rotateFailed(path: path, reason: Self.errnoText()) }
        closeFile(fd)
        fd = -1
        let opened = try Self.openFile(path)
        fd = opened.fd; size = opened.size
        try writeLineSync(AuditChain.openLine(AuditOpen(reason: .rotate, owner: settings.owner, version: settings.version,
                                                        previousFile: URL(fileURLWithPath: rotated).lastPathComponent),
                                              at: clock(), head: head))
        try syncSync()
        Self.syncDirectory(of: path)
    }

    private func writeLineSync(_ line: (bytes: [UInt8], next: AuditChain.Head)) throws(AuditError) {
        try Self.writeAll(fd, line.bytes, path: path)
        size += line.bytes.count + 1
        lastWritten = head.seq
        head = line.next
        unsignedLines += 1
        if oldestUnsigned == nil { oldestUnsigned = clock() }
    }

    private func syncSync() throws(AuditError) {
        let upTo = lastWritten
        try Self.dataSync(fd, path: path)
        lastSynced = upTo
    }

    /// Opens (creating 0600) and locks the file, cuts off a torn tail, and reads the head
    /// from the last complete line.
    static func openFile(_ path: String) throws(AuditError) -> (fd: Int32, head: AuditChain.Head, size: Int, torn: AuditOpen.Torn?) {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: errnoText()) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let reason = errnoText()
            closeFile(fd)
            throw busy ? .inUse(path: path) : .cannotOpen(path: path, reason: reason)
        }
        do {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw AuditError.cannotOpen(path: path, reason: errnoText()) }
            var size = Int(st.st_size)
            // 1. A torn tail: everything after the last newline.
            var torn: AuditOpen.Torn?
            let keep = try lastNewline(fd, before: size, path: path).map { $0 + 1 } ?? 0
            if keep < size {
                let tail = try readRange(fd, keep..<size, path: path)
                torn = AuditOpen.Torn(bytes: tail.count, sha256: AuditChain.hash(tail))
                guard ftruncate(fd, off_t(keep)) == 0 else { throw AuditError.cannotOpen(path: path, reason: errnoText()) }
                size = keep
            }
            if size == 0 { return (fd, .start, 0, torn) }
            // 2. The last complete line gives the head.
            let start = try lastNewline(fd, before: size - 1, path: path).map { $0 + 1 } ?? 0
            let last = try readRange(fd, start..<(size - 1), path: path)
            let entry: AuditEntry
            do throws(AuditEntry.ParseError) { entry = try AuditEntry.parse(last) } catch {
                throw AuditError.lastLineUnreadable(path: path, reason: error.description)
            }
            return (fd, AuditChain.Head(seq: entry.seq + 1, prev: entry.hash), size, torn)
        } catch let error as AuditError {
            closeFile(fd)
            throw error
        } catch {
            closeFile(fd)
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Offset of the last newline before `end`, reading backwards in 64 KiB steps.
    static func lastNewline(_ fd: Int32, before end: Int, path: String) throws(AuditError) -> Int? {
        var upper = end
        while upper > 0 {
            let lower = max(0, upper - 64 * 1024)
            let chunk = try readRange(fd, lower..<upper, path: path)
            if let i = chunk.lastIndex(of: 0x0A) { return lower + i }
            upper = lower
        }
        return nil
    }

    static func readRange(_ fd: Int32, _ range: Range<Int>, path: String) throws(AuditError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < range.count {
            let n = bytes[done...].withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(range.lowerBound + done)) }
            guard n > 0 else { throw .cannotOpen(path: path, reason: n == 0 ? "short read" : errnoText()) }
            done += n
        }
        return bytes
    }

    /// One line and its newline, in as few writes as the kernel allows (one, in practice).
    static func writeAll(_ fd: Int32, _ line: [UInt8], path: String) throws(AuditError) {
        var bytes = line
        bytes.append(0x0A)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { writeFile(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .writeFailed(path: path, reason: errnoText()) }
            done += n
        }
    }

    static func dataSync(_ fd: Int32, path: String) throws(AuditError) {
        #if os(Linux)
        let rc = fdatasync(fd)
        #else
        let rc = fsync(fd)
        #endif
        guard rc == 0 else { throw .writeFailed(path: path, reason: errnoText()) }
    }

    static func syncDirectory(of path: String) {
        let dir = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); closeFile(dir) }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}

// The C calls under names the actor's own `write` and `close` do not shadow.
private func closeFile(_ fd: Int32) { _ = close(fd) }
private func writeFile(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
