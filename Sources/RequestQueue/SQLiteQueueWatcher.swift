import Foundation
import Synchronization
import WritebackCore
#if canImport(Glibc)
import Glibc
#endif

/// Wakes the poller when another process (a portal, another daemon) commits to the SQLite
/// queue: inotify on the database file and its WAL tells that a file changed, then
/// `PRAGMA data_version` on the queue's writer connection tells a commit by someone else from
/// noise (this daemon's own commits and checkpoints never move it). A commit becomes visible
/// only after its WAL frames are written and synced, that is after the last inotify event, so
/// a change not visible yet is checked again a few times (1 to 250 ms after the last event,
/// at most once a millisecond) before the watcher goes back to sleep. The directory is watched too, so a WAL that
/// is created later (or recreated) is watched from then on. Runs on one thread of its own
/// (blocking `poll(2)`), never on the cooperative pool; without inotify it reports `.poll`.
public final class SQLiteQueueWatcher: QueueWakeSource {
    let queue: SQLiteRequestQueue
    private let source = Mutex(WakeupSource.poll)
    /// Delays (ms) of the checks that follow the last event while nothing visible changed: a
    /// producer's commit is visible once its WAL sync returns, a few ms after its last write.
    static let rechecks: [Int32] = [1, 2, 4, 8, 16, 50, 250]
    /// At most one check per this interval, however many events arrive (the daemon's own commits
    /// during a drain): at most 1,000 one-statement checks a second.
    static let minimumSpacing = Duration.milliseconds(1)

    public init(queue: SQLiteRequestQueue) { self.queue = queue }

    public var current: WakeupSource { source.withLock { $0 } }

    public func run(wake: @escaping @Sendable () -> Void) async {
        let path = (queue.path as NSString).standardizingPath
        let directory = (path as NSString).deletingLastPathComponent, base = (path as NSString).lastPathComponent
        let inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        // The stop signal: a byte written to a pipe the thread polls beside inotify.
        var pipeFDs: [Int32] = [-1, -1]
        let piped = pipe(&pipeFDs) == 0
        if piped { for fd in pipeFDs { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }  // not inherited by a sendmail child
        let stop = pipeFDs[0], stopWriter = pipeFDs[1]
        guard inotify >= 0, piped, inotify_add_watch(inotify, directory.isEmpty ? "." : directory, Self.directoryMask) >= 0 else {
            for fd in [inotify] + pipeFDs where fd >= 0 { close(fd) }
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        source.withLock { $0 = .inotify }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let thread = Thread { [self] in
                    self.watch(inotify: inotify, stop: stop, directory: directory, base: base, wake: wake)
                    done.resume()
                }
                thread.name = "queue-watch"
                thread.start()
            }
        } onCancel: {
            var one: UInt8 = 1
            _ = write(stopWriter, &one, 1)
        }
        close(inotify)
        close(stop)
        close(stopWriter)
        source.withLock { $0 = .poll }
    }

    static let directoryMask = UInt32(IN_CREATE | IN_MOVED_TO)
    static let fileMask = UInt32(IN_MODIFY)

    /// The watcher thread: waits for events or the stop signal, checks `data_version`.
    private func watch(inotify: Int32, stop: Int32, directory: String, base: String, wake: @Sendable () -> Void) {
        let dir = directory.isEmpty ? "." : directory
        var fileWatches: [Int32: String] = [:]
        func add(_ name: String) {
            let wd = inotify_add_watch(inotify, dir + "/" + name, Self.fileMask)
            if wd >= 0 { fileWatches[wd] = name }
        }
        add(base)
        add(base + "-wal")
        var lastVersion = try? queue.dataVersion()
        var lastCheck = ContinuousClock.now
        var recheck: Int?  // index into `rechecks` of the next timed check
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            var fds = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: stop, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, recheck.map { Self.rechecks[$0] } ?? -1)
            if ready < 0 { if errno == EINTR { continue } else { return } }
            if fds[1].revents != 0 { return }
            var check = false
            if fds[0].revents != 0 {
                while true {
                    let n = read(inotify, &buffer, buffer.count)
                    if n <= 0 { break }
                    for event in InotifyEvents.parse(Array(buffer[0..<n])) {
                        if fileWatches[event.watch] != nil {
                            if event.mask & UInt32(IN_IGNORED) != 0 { fileWatches[event.watch] = nil } else { check = true }
                        } else if event.name == base || event.name == base + "-wal" {
                            // Created or renamed into place: watch the new file.
                            // (A watch of an inode already watched returns the same descriptor.)
                            add(event.name)
                            check = true
                        }
                    }
                }
                // A new event restarts the rechecks from the shortest delay; a check that just
                // ran covers it if it came less than `minimumSpacing` ago (the timer follows).
                if check {
                    recheck = 0
                    if ContinuousClock.now - lastCheck < Self.minimumSpacing { check = false }
                }
            } else if let i = recheck {
                check = true
                recheck = i + 1 < Self.rechecks.count ? i + 1 : nil
            }
            guard check else { continue }
            lastCheck = ContinuousClock.now
            let version = try? queue.dataVersion()
            if version == nil || version != lastVersion {
                lastVersion = version
                recheck = nil
                wake()
            }
        }
    }
}
