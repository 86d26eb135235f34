import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One run of the sendmail command with `posix_spawn`: stdin is one end of a socket pair
/// (written with `MSG_NOSIGNAL`, so a command that exits early cannot raise SIGPIPE in the
/// daemon), stdout and stderr share a second socket pair whose last 2 KiB are kept. The child gets its own
/// process group and default signal handling; on timeout the group gets SIGTERM, then SIGKILL.
struct SendmailProcess {
    let command: SendmailCommand
    let timeout: TimeInterval
    /// Checked while the command runs: true kills it (the daemon is shutting down).
    let abort: @Sendable () -> Bool

    func run(_ message: Data) -> SendmailResult {
        let deadline = Date().addingTimeInterval(timeout)
        var input: [Int32] = [-1, -1]
        var output: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &input) == 0 else {
            return failure("socketpair: \(String(cString: strerror(errno)))")
        }
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &output) == 0 else {
            close(input[0]); close(input[1])
            return failure("socketpair: \(String(cString: strerror(errno)))")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[1], 0)
        posix_spawn_file_actions_adddup2(&actions, output[1], 1)
        posix_spawn_file_actions_adddup2(&actions, output[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = ([command.executable] + command.arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, command.executable, &actions, &attributes, argv + [nil], environ)
        close(input[1]); close(output[1])
        defer { close(input[0]); close(output[0]) }
        guard spawned == 0 else {
            return failure("cannot start \(command.executable): \(String(cString: strerror(spawned)))")
        }

        var captured: [UInt8] = []
        var inputOpen = true
        var sent = 0
        var timedOut = false
        var aborted = false
        let bytes = [UInt8](message)
        _ = fcntl(input[0], F_SETFL, fcntl(input[0], F_GETFL) | O_NONBLOCK)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { timedOut = true; break }
            if abort() { aborted = true; break }
            var fds = [pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)]
            if inputOpen { fds.append(pollfd(fd: input[0], events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 0.2) * 1000) + 1)
            if ready < 0, errno != EINTR { break }
            if inputOpen, fds.count > 1, fds[1].revents != 0 {
                let n = bytes.withUnsafeBytes { send(input[0], $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                if n > 0 { sent += n }
                if sent == bytes.count || (n < 0 && errno != EAGAIN && errno != EINTR) {
                    shutdown(input[0], Int32(SHUT_WR))
                    inputOpen = false
                }
            }
            if fds[0].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = read(output[0], &buffer, buffer.count)
                if n == 0 { break }
                if n > 0 {
                    captured += buffer[0..<n]
                    if captured.count > 2048 { captured.removeFirst(captured.count - 2048) }
                }
            }
        }
        var status: Int32 = 0
        if timedOut || aborted {
            kill(-pid, SIGTERM)
            if !waitExit(pid, &status, until: Date().addingTimeInterval(2)) {
                kill(-pid, SIGKILL)
                _ = waitExit(pid, &status, until: .distantFuture)
            }
        } else if !waitExit(pid, &status, until: deadline) {
            timedOut = true
            kill(-pid, SIGKILL)
            _ = waitExit(pid, &status, until: .distantFuture)
        }
        let exited = status & 0x7F == 0
        return SendmailResult(exitStatus: exited && !timedOut && !aborted ? (status >> 8) & 0xFF : nil,
                              timedOut: timedOut, aborted: aborted, output: String(decoding: captured, as: UTF8.self))
    }

    /// `waitpid` until the child exits or `limit` passes (polling every 10 ms).
    private func waitExit(_ pid: pid_t, _ status: inout Int32, until limit: Date) -> Bool {
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return true }
            if result < 0, errno != EINTR { return true }
            if Date() >= limit { return false }
            usleep(10_000)
        }
    }

    private func failure(_ reason: String) -> SendmailResult {
        SendmailResult(exitStatus: nil, timedOut: false, aborted: false, output: reason)
    }
}
