import Foundation

/// The outbox on disk, Maildir style: `tmp/` (messages being written), `new/` (written, not yet
/// delivered), `sent/`, `failed/` (with a `.reason` file beside each message), `state/` (the
/// deliverer's retry records), and `outbox.jsonl`. Directories are 0750, files 0640, set
/// explicitly whatever the umask.
///
/// A message appears in `new/` only whole: it is written to `tmp/`, fsynced, renamed, and the
/// directory is fsynced, so after a crash a message either exists completely or not at all
/// (a half-written temporary file in `tmp/` is removed at the next start).
struct OutboxDirectory: Sendable {
    enum Folder: String, Sendable, CaseIterable {
        case tmp, new, sent, failed, state
    }

    static let directoryMode: mode_t = 0o750
    static let fileMode: mode_t = 0o640

    /// Absolute path of the outbox.
    let root: String

    init(path: String) {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        root = (absolute as NSString).standardizingPath
    }

    func path(_ folder: Folder) -> String { "\(root)/\(folder.rawValue)" }
    func path(_ folder: Folder, _ name: String) -> String { "\(root)/\(folder.rawValue)/\(name)" }
    var journalPath: String { "\(root)/outbox.jsonl" }

    /// Which temporary files in `tmp/` a component owns and may remove at start: the writer's
    /// messages (`*.eml.<pid>.tmp`), or the deliverer's records and reasons (everything else).
    /// Each removes only its own, so neither deletes a file the other is writing.
    enum TemporaryOwner: Sendable { case writer, deliverer }

    /// Creates the outbox and its folders (0750) and removes the temporary files of `owner`
    /// that a crash left behind.
    func prepare(cleaning owner: TemporaryOwner) throws(OutboxError) {
        for directory in [root] + Folder.allCases.map(path) {
            if mkdir(directory, Self.directoryMode) != 0, errno != EEXIST {
                // The parent may be missing too (first start): create the chain.
                do {
                    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                } catch {
                    throw .io(operation: "create directory", path: directory, reason: error.localizedDescription)
                }
            }
            if chmod(directory, Self.directoryMode) != 0 { throw .posix("chmod", directory) }
        }
        for name in names(in: .tmp) where name.contains(".eml.") == (owner == .writer) {
            unlink(path(.tmp, name))
        }
    }

    /// Writes `data` as `new/<name>` atomically and durably; returns its path. With
    /// `syncDirectory: false` the caller fsyncs `new/` itself (once for a batch of messages).
    func publish(_ data: Data, as name: String, syncDirectory sync: Bool = true) throws(OutboxError) -> String {
        let temporary = path(.tmp, "\(name).\(getpid()).tmp")
        try writeFile(temporary, data)
        let final = path(.new, name)
        if rename(temporary, final) != 0 {
            let code = errno
            unlink(temporary)
            throw .posix("rename to", final, errno: code)
        }
        if sync { try syncDirectory(path(.new)) }
        return final
    }

    /// Writes a small file (a `.reason`, a retry record) atomically through `tmp/`.
    func replace(_ destination: String, with data: Data) throws(OutboxError) {
        let temporary = path(.tmp, "\((destination as NSString).lastPathComponent).\(getpid()).tmp")
        try writeFile(temporary, data)
        if rename(temporary, destination) != 0 {
            let code = errno
            unlink(temporary)
            throw .posix("rename to", destination, errno: code)
        }
        try syncDirectory((destination as NSString).deletingLastPathComponent)
    }

    /// Moves `name` between folders, durably (both directories fsynced).
    func move(_ name: String, from source: Folder, to destination: Folder) throws(OutboxError) {
        let target = path(destination, name)
        if rename(path(source, name), target) != 0 { throw .posix("rename to", target) }
        try syncDirectory(path(destination))
        try syncDirectory(path(source))
    }

    /// Where `name` is among `new/`, `sent/`, `failed/`, if anywhere.
    func locate(_ name: String) -> Folder? {
        [Folder.new, .sent, .failed].first { access(path($0, name), F_OK) == 0 }
    }

    /// File names in `folder`, unsorted; hidden files excluded.
    func names(in folder: Folder) -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: path(folder)) else { return [] }
        return entries.filter { !$0.hasPrefix(".") }
    }

    /// Modification time of a file, if it exists.
    func modified(_ path: String) -> Date? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec) + TimeInterval(info.st_mtim.tv_nsec) / 1e9)
    }

    private func writeFile(_ path: String, _ data: Data) throws(OutboxError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, Self.fileMode)
        guard fd >= 0 else { throw .posix("create", path) }
        defer { close(fd) }
        guard fchmod(fd, Self.fileMode) == 0 else { throw .posix("chmod", path) }
        let written = data.withUnsafeBytes { buffer -> Int in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; return -1 }
                offset += n
            }
            return offset
        }
        guard written == data.count else { throw .posix("write", path) }
        guard fsync(fd) == 0 else { throw .posix("fsync", path) }
    }

    func syncDirectory(_ directory: String) throws(OutboxError) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .posix("open", directory) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .posix("fsync", directory) }
    }
}
